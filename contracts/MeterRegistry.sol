// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IMeterRegistry} from "../interfaces/IMeterRegistry.sol";

/// @title MeterRegistry
/// @notice Binds each microgrid meter to one owner; the operator manages meters, the oracle reads them.
/// @dev Meters are listed off chain from the events (no on-chain enumeration, as in AccessControl).
contract MeterRegistry is IMeterRegistry, AccessControl {
    /// @notice Role of the microgrid operator: registers, deactivates and re-assigns meters.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    mapping(bytes32 meterId => Meter) private _meters;
    uint256 private _meterCount;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes roles; not the operator).
    /// @param operator Holder of OPERATOR_ROLE.
    constructor(address admin, address operator) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, operator);
    }

    /// @inheritdoc IMeterRegistry
    function registerMeter(bytes32 meterId, address owner) external onlyRole(OPERATOR_ROLE) {
        if (meterId == bytes32(0)) revert MeterRegistryZeroMeterId();
        if (owner == address(0)) revert MeterRegistryZeroOwner();
        if (_meters[meterId].owner != address(0)) revert MeterRegistryAlreadyRegistered(meterId);
        _meters[meterId] = Meter({owner: owner, active: true, registeredAt: uint64(block.timestamp)});
        unchecked {
            // Cannot overflow: one increment per registration transaction.
            ++_meterCount;
        }
        emit MeterRegistered(meterId, owner);
    }

    /// @inheritdoc IMeterRegistry
    function deactivateMeter(bytes32 meterId) external onlyRole(OPERATOR_ROLE) {
        Meter storage m = _existing(meterId);
        if (!m.active) revert MeterRegistryInactiveMeter(meterId);
        m.active = false;
        emit MeterDeactivated(meterId);
    }

    /// @inheritdoc IMeterRegistry
    function activateMeter(bytes32 meterId) external onlyRole(OPERATOR_ROLE) {
        Meter storage m = _existing(meterId);
        if (m.active) revert MeterRegistryAlreadyActive(meterId);
        m.active = true;
        emit MeterActivated(meterId);
    }

    /// @inheritdoc IMeterRegistry
    function reassignMeter(bytes32 meterId, address newOwner) external onlyRole(OPERATOR_ROLE) {
        if (newOwner == address(0)) revert MeterRegistryZeroOwner();
        Meter storage m = _existing(meterId);
        address previous = m.owner;
        m.owner = newOwner;
        emit MeterReassigned(meterId, previous, newOwner);
    }

    /// @inheritdoc IMeterRegistry
    function meter(bytes32 meterId) external view returns (Meter memory) {
        return _existing(meterId);
    }

    /// @inheritdoc IMeterRegistry
    function activeOwnerOf(bytes32 meterId) external view returns (address owner) {
        Meter storage m = _existing(meterId);
        if (!m.active) revert MeterRegistryInactiveMeter(meterId);
        return m.owner;
    }

    /// @inheritdoc IMeterRegistry
    function meterCount() external view returns (uint256) {
        return _meterCount;
    }

    function _existing(bytes32 meterId) private view returns (Meter storage m) {
        m = _meters[meterId];
        if (m.owner == address(0)) revert MeterRegistryUnknownMeter(meterId);
    }
}
