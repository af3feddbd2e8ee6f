// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMeterRegistry} from "./IMeterRegistry.sol";

/// @title Energy token: 1 unit = 1 Wh, minted only from meter readings
/// @notice The oracle settles each (meter, interval) reading once: surplus is minted to the meter's owner; a deficit
///         burns the owner's tokens (energy delivered from the pool) and the rest is recorded as drawn from the grid.
interface IEnergyToken {
    /// @notice One meter reading for one interval, as the oracle reports it.
    /// @param meterId The registered, active meter.
    /// @param interval Start of the reading interval (unix seconds); together with meterId it is unique.
    /// @param surplusWh Energy exported in the interval (generation above consumption), minted to the owner.
    /// @param deficitWh Energy imported in the interval (consumption above generation).
    struct Reading {
        bytes32 meterId;
        uint64 interval;
        uint128 surplusWh;
        uint128 deficitWh;
    }

    /// @notice Thrown when a (meter, interval) reading was already recorded.
    /// @param meterId The meter.
    /// @param interval The interval.
    error EnergyTokenReadingAlreadyRecorded(bytes32 meterId, uint64 interval);
    /// @notice Thrown when a reading's interval starts after the current block.
    /// @param interval The interval start.
    /// @param blockTimestamp The current block timestamp.
    error EnergyTokenIntervalInFuture(uint64 interval, uint256 blockTimestamp);
    /// @notice Thrown when a reading has both surplus and deficit (a net reading has one side only).
    /// @param meterId The meter.
    /// @param interval The interval.
    error EnergyTokenInvalidReading(bytes32 meterId, uint64 interval);
    /// @notice Thrown when a batch is empty or larger than MAX_BATCH.
    /// @param length The batch length given.
    error EnergyTokenInvalidBatchLength(uint256 length);
    /// @notice Thrown by `recordReading` when the registry refuses the reading (see IMeterRegistry.ReadingCheck).
    /// @param meterId The meter.
    /// @param interval The interval.
    /// @param check Why.
    error EnergyTokenReadingRejected(bytes32 meterId, uint64 interval, IMeterRegistry.ReadingCheck check);

    /// @notice Emitted for every recorded reading.
    /// @param meterId The meter.
    /// @param interval Start of the interval (unix seconds).
    /// @param owner The meter's owner at the time of recording.
    /// @param mintedWh Surplus minted to the owner.
    /// @param burnedWh Owner's tokens burned to cover the deficit (energy delivered from the pool).
    /// @param gridWh Deficit not covered by the owner's tokens, drawn from the grid.
    event ReadingRecorded(
        bytes32 indexed meterId,
        uint64 indexed interval,
        address indexed owner,
        uint256 mintedWh,
        uint256 burnedWh,
        uint256 gridWh
    );

    /// @notice Emitted when a batch skips a reading that was already recorded (batches are idempotent).
    /// @param meterId The meter.
    /// @param interval The interval.
    event ReadingDuplicateSkipped(bytes32 indexed meterId, uint64 indexed interval);
    /// @notice Emitted by `recordReadings` for a reading the registry refuses (inactive meter, interval not aligned
    ///         to the meter's period, before its registration, or of an owner no longer kept); the rest of the batch
    ///         is recorded.
    /// @param meterId The meter.
    /// @param interval The interval.
    /// @param check Why (IMeterRegistry.ReadingCheck).
    event ReadingSkipped(bytes32 indexed meterId, uint64 indexed interval, IMeterRegistry.ReadingCheck check);

    /// @notice Records one reading; reverts if it was recorded before. Oracle only.
    /// @param reading The reading.
    function recordReading(Reading calldata reading) external;

    /// @notice Records several readings, skipping (with an event) those already recorded. Oracle only.
    /// @dev The caller supplies and pays for the array; its length is capped by MAX_BATCH.
    /// @param readings The readings.
    /// @return recorded How many readings were newly recorded.
    function recordReadings(Reading[] calldata readings) external returns (uint256 recorded);

    /// @notice Whether a (meter, interval) reading was recorded.
    /// @param meterId The meter.
    /// @param interval The interval start.
    /// @return True when recorded.
    function isRecorded(bytes32 meterId, uint64 interval) external view returns (bool);

    /// @notice Total minted from readings since deployment, in Wh.
    /// @return The total.
    function totalMinted() external view returns (uint256);

    /// @notice Total burned to cover deficits since deployment, in Wh.
    /// @return The total.
    function totalBurned() external view returns (uint256);
}
