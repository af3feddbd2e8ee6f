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

    /// @notice Whether a reading for (meter, interval) may settle, and to whom (`ownerForReading`).
    /// @dev Ok: settle to the returned owner. Inactive: the meter is deactivated. Misaligned: the interval is zero or
    ///      not a multiple of the meter's period. BeforeRegistration: the interval starts before the meter's first
    ///      interval. OwnerUnknown: the interval lies before the previous owner's time (two reassignments back).
    enum ReadingCheck {
        Ok,
        Inactive,
        Misaligned,
        BeforeRegistration,
        OwnerUnknown
    }

    /// @notice Thrown when a period is zero or above a day, or a first interval is not aligned or in the future.
    /// @param periodSeconds The period given.
    /// @param firstInterval The first interval given.
    error MeterRegistryInvalidPeriod(uint256 periodSeconds, uint256 firstInterval);
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
    /// @notice Emitted when a meter is registered with a reading period (registerMeterWithPeriod).
    /// @param meterId The meter.
    /// @param periodSeconds Interval length; every reading's interval is a multiple of it.
    /// @param firstInterval The first interval the meter may report.
    event MeterPeriodSet(bytes32 indexed meterId, uint256 periodSeconds, uint256 firstInterval);

    /// @notice Registers a new, active meter bound to `owner`. Operator only.
    /// @param meterId Non-zero identifier of the meter.
    /// @param owner Address that receives the meter's energy tokens.
    function registerMeter(bytes32 meterId, address owner) external;

    /// @notice Registers a new, active meter whose readings cover `periodSeconds`-long intervals, aligned to the
    ///         period (interval % periodSeconds == 0), from `firstInterval` on. Operator only.
    /// @dev `firstInterval` may lie before now (a simulator registers at the start of its simulated day) but not after.
    /// @param meterId Non-zero identifier of the meter.
    /// @param owner Address that receives the meter's energy tokens.
    /// @param periodSeconds 1 s .. 1 day (the oracle's interval, 900 s for the community simulator).
    /// @param firstInterval A multiple of `periodSeconds`, not after the current block.
    function registerMeterWithPeriod(bytes32 meterId, address owner, uint32 periodSeconds, uint64 firstInterval)
        external;

    /// @notice Stops the oracle from reporting for a meter. Operator only.
    /// @param meterId A registered, active meter.
    function deactivateMeter(bytes32 meterId) external;

    /// @notice Lets the oracle report for a deactivated meter again. Operator only.
    /// @param meterId A registered, inactive meter.
    function activateMeter(bytes32 meterId) external;

    /// @notice Binds a meter to a new owner (e.g. the household moved) from now on: readings of intervals that
    ///         started before keep settling to the previous owner (one owner back is kept). Operator only.
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

    /// @notice Who a reading of `interval` settles to, and whether it may: the owner during that interval (the
    ///         current one, or the previous one for an interval that started before the last reassignment). Bounded:
    ///         two owners are kept. Reverts for unknown meters.
    /// @param meterId The meter.
    /// @param interval Start of the reading's interval, unix seconds.
    /// @return owner The owner during the interval (zero unless `check` is Ok).
    /// @return check Ok, or why the reading cannot settle.
    function ownerForReading(bytes32 meterId, uint64 interval) external view returns (address owner, ReadingCheck check);

    /// @notice A meter's reading period and first interval (1 s and its registration time for `registerMeter`).
    /// @param meterId The meter.
    /// @return periodSeconds The period.
    /// @return firstInterval The first interval it may report.
    function periodOf(bytes32 meterId) external view returns (uint256 periodSeconds, uint256 firstInterval);

    /// @notice Number of meters ever registered.
    /// @return The count.
    function meterCount() external view returns (uint256);
}
