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

    /// @dev Second slot of a meter: the previous owner and since when the current one owns it (0: never reassigned),
    ///      the reading period (0 for `registerMeter`: 1 s, any interval from 1 on, as before periods existed).
    struct Tenure {
        address previousOwner;
        uint64 ownerSince;
        uint32 period;
    }

    /// @dev Longest reading period.
    uint256 private constant MAX_PERIOD = 1 days;

    mapping(bytes32 meterId => Meter) private _meters;
    mapping(bytes32 meterId => Tenure) private _tenure;
    /// @dev Since when the previous owner owned the meter (0: since registration). Read only for late readings.
    mapping(bytes32 meterId => uint64 since) private _previousSince;
    uint256 private _meterCount;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes roles; not the operator).
    /// @param operator Holder of OPERATOR_ROLE.
    constructor(address admin, address operator) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, operator);
    }

    /// @inheritdoc IMeterRegistry
    function registerMeter(bytes32 meterId, address owner) external onlyRole(OPERATOR_ROLE) {
        _register(meterId, owner, uint64(block.timestamp));
    }

    /// @inheritdoc IMeterRegistry
    function registerMeterWithPeriod(bytes32 meterId, address owner, uint32 periodSeconds, uint64 firstInterval)
        external
        onlyRole(OPERATOR_ROLE)
    {
        if (
            periodSeconds == 0 || periodSeconds > MAX_PERIOD || firstInterval % periodSeconds != 0
                || firstInterval > block.timestamp
        ) revert MeterRegistryInvalidPeriod(periodSeconds, firstInterval);
        _register(meterId, owner, firstInterval);
        _tenure[meterId].period = periodSeconds;
        emit MeterPeriodSet(meterId, periodSeconds, firstInterval);
    }

    function _register(bytes32 meterId, address owner, uint64 registeredAt) private {
        if (meterId == bytes32(0)) revert MeterRegistryZeroMeterId();
        if (owner == address(0)) revert MeterRegistryZeroOwner();
        if (_meters[meterId].owner != address(0)) revert MeterRegistryAlreadyRegistered(meterId);
        _meters[meterId] = Meter({owner: owner, active: true, registeredAt: registeredAt});
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
        Tenure storage t = _tenure[meterId];
        if (t.ownerSince != 0) _previousSince[meterId] = t.ownerSince;
        (t.previousOwner, t.ownerSince) = (previous, uint64(block.timestamp));
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
    function ownerForReading(bytes32 meterId, uint64 interval) external view returns (address, ReadingCheck) {
        Meter storage m = _existing(meterId);
        if (!m.active) return (address(0), ReadingCheck.Inactive);
        Tenure memory t = _tenure[meterId];
        if (interval == 0 || (t.period != 0 && interval % t.period != 0)) return (address(0), ReadingCheck.Misaligned);
        if (t.period != 0 && interval < m.registeredAt) return (address(0), ReadingCheck.BeforeRegistration);
        if (interval >= t.ownerSince) return (m.owner, ReadingCheck.Ok); // ownerSince 0: never reassigned
        // The interval started before the last reassignment: it belongs to the previous owner, unless it also
        // started before that owner's own time (an earlier reassignment), which is no longer kept.
        if (interval < _previousSince[meterId]) return (address(0), ReadingCheck.OwnerUnknown);
        return (t.previousOwner, ReadingCheck.Ok);
    }

    /// @inheritdoc IMeterRegistry
    function periodOf(bytes32 meterId) external view returns (uint256 periodSeconds, uint256 firstInterval) {
        Meter storage m = _existing(meterId);
        uint256 period = _tenure[meterId].period;
        return (period == 0 ? 1 : period, m.registeredAt);
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
