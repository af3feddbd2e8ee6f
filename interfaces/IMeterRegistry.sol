// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Meter registry of the microgrid
/// @notice The operator binds each physical meter to one owner address; the oracle reports only for active meters.
interface IMeterRegistry {
    /// @notice A meter as the registry knows it.
    /// @param owner Address that receives the tokens minted from this meter's readings.
    /// @param active Whether the oracle may report readings for this meter.
    /// @param registeredAt Block timestamp of the first registration.
    struct Meter {
        address owner;
        bool active;
        uint64 registeredAt;
    }

    /// @notice Thrown when registering a meter id that already exists.
    /// @param meterId The meter that is already registered.
    error MeterRegistryAlreadyRegistered(bytes32 meterId);
    /// @notice Thrown when a meter id is not registered.
    /// @param meterId The unknown meter.
    error MeterRegistryUnknownMeter(bytes32 meterId);
    /// @notice Thrown when a meter is not active but must be.
    /// @param meterId The inactive meter.
    error MeterRegistryInactiveMeter(bytes32 meterId);
    /// @notice Thrown when activating a meter that is already active.
    /// @param meterId The active meter.
    error MeterRegistryAlreadyActive(bytes32 meterId);
    /// @notice Thrown when an owner address is the zero address.
    error MeterRegistryZeroOwner();
    /// @notice Thrown when the meter id is zero.
    error MeterRegistryZeroMeterId();

    /// @notice Emitted when a meter is registered.
    /// @param meterId The meter's identifier (keccak256 of its serial, or its serial as bytes32).
    /// @param owner The address the meter is bound to.
    event MeterRegistered(bytes32 indexed meterId, address indexed owner);
    /// @notice Emitted when a meter is deactivated; the oracle can no longer report for it.
    /// @param meterId The meter.
    event MeterDeactivated(bytes32 indexed meterId);
    /// @notice Emitted when a deactivated meter is activated again.
    /// @param meterId The meter.
    event MeterActivated(bytes32 indexed meterId);
    /// @notice Emitted when a meter is bound to a new owner.
    /// @param meterId The meter.
    /// @param previousOwner The former owner.
    /// @param newOwner The new owner.
    event MeterReassigned(bytes32 indexed meterId, address indexed previousOwner, address indexed newOwner);

    /// @notice Registers a new, active meter bound to `owner`. Operator only.
    /// @param meterId Non-zero identifier of the meter.
    /// @param owner Address that receives the meter's energy tokens.
    function registerMeter(bytes32 meterId, address owner) external;

    /// @notice Stops the oracle from reporting for a meter. Operator only.
    /// @param meterId A registered, active meter.
    function deactivateMeter(bytes32 meterId) external;

    /// @notice Lets the oracle report for a deactivated meter again. Operator only.
    /// @param meterId A registered, inactive meter.
    function activateMeter(bytes32 meterId) external;

    /// @notice Binds a meter to a new owner (e.g. the household moved). Operator only.
    /// @param meterId A registered meter.
    /// @param newOwner The new owner, not zero.
    function reassignMeter(bytes32 meterId, address newOwner) external;

    /// @notice Returns a meter's record; reverts for unknown meters.
    /// @param meterId The meter.
    /// @return The meter record.
    function meter(bytes32 meterId) external view returns (Meter memory);

    /// @notice Returns the owner of an active meter; reverts when unknown or inactive.
    /// @param meterId The meter.
    /// @return owner The address bound to the meter.
    function activeOwnerOf(bytes32 meterId) external view returns (address owner);

    /// @notice Number of meters ever registered.
    /// @return The count.
    function meterCount() external view returns (uint256);
}
