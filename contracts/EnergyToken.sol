// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IEnergyToken} from "../interfaces/IEnergyToken.sol";
import {IMeterRegistry} from "../interfaces/IMeterRegistry.sol";

/// @title EnergyToken (kWh): 1 unit = 1 Wh, 3 decimals so that wallets show kWh
/// @notice Supply changes only through meter readings reported by the oracle, each (meter, interval) once.
contract EnergyToken is IEnergyToken, ERC20, AccessControl {
    /// @notice Role of the meter oracle daemon: the only one that mints and burns.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice Largest batch `recordReadings` accepts, so one call stays far below the block gas limit.
    uint256 public constant MAX_BATCH = 200;

    /// @notice The registry that says which meters are active and who owns them.
    IMeterRegistry public immutable registry;

    mapping(bytes32 meterId => mapping(uint64 interval => bool)) private _recorded;
    uint256 private _totalMinted;
    uint256 private _totalBurned;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes roles; not the oracle).
    /// @param oracle Holder of ORACLE_ROLE.
    /// @param meterRegistry The meter registry.
    constructor(address admin, address oracle, IMeterRegistry meterRegistry) ERC20("Microgrid Energy", "kWh") {
        registry = meterRegistry;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ROLE, oracle);
    }

    /// @notice 3 decimals: one whole token is 1 kWh, one base unit is 1 Wh.
    /// @return The number of decimals.
    function decimals() public pure override returns (uint8) {
        return 3;
    }

    /// @inheritdoc IEnergyToken
    function recordReading(Reading calldata reading) external onlyRole(ORACLE_ROLE) {
        if (_recorded[reading.meterId][reading.interval]) {
            revert EnergyTokenReadingAlreadyRecorded(reading.meterId, reading.interval);
        }
        (address owner, IMeterRegistry.ReadingCheck check) = registry.ownerForReading(reading.meterId, reading.interval);
        if (check == IMeterRegistry.ReadingCheck.Inactive) revert IMeterRegistry.MeterRegistryInactiveMeter(reading.meterId);
        if (check != IMeterRegistry.ReadingCheck.Ok) revert EnergyTokenReadingRejected(reading.meterId, reading.interval, check);
        _record(reading, owner);
    }

    /// @inheritdoc IEnergyToken
    function recordReadings(Reading[] calldata readings) external onlyRole(ORACLE_ROLE) returns (uint256 recorded) {
        uint256 n = readings.length;
        if (n == 0 || n > MAX_BATCH) revert EnergyTokenInvalidBatchLength(n);
        for (uint256 i; i < n; ++i) {
            Reading calldata r = readings[i];
            if (_recorded[r.meterId][r.interval]) {
                emit ReadingDuplicateSkipped(r.meterId, r.interval);
                continue;
            }
            (address owner, IMeterRegistry.ReadingCheck check) = registry.ownerForReading(r.meterId, r.interval);
            if (check != IMeterRegistry.ReadingCheck.Ok) {
                // One inactive or misconfigured meter must not revert the other readings of the batch.
                emit ReadingSkipped(r.meterId, r.interval, check);
                continue;
            }
            _record(r, owner);
            ++recorded;
        }
    }

    /// @inheritdoc IEnergyToken
    function isRecorded(bytes32 meterId, uint64 interval) external view returns (bool) {
        return _recorded[meterId][interval];
    }

    /// @inheritdoc IEnergyToken
    function totalMinted() external view returns (uint256) {
        return _totalMinted;
    }

    /// @inheritdoc IEnergyToken
    function totalBurned() external view returns (uint256) {
        return _totalBurned;
    }

    /// @dev Checks the reading, marks it recorded, then mints the surplus to the owner during the interval (or burns
    ///      what that owner holds of the deficit). The registry checked the meter (active, period, registration, owner).
    function _record(Reading calldata r, address owner) private {
        if (r.interval > block.timestamp) revert EnergyTokenIntervalInFuture(r.interval, block.timestamp);
        if (r.surplusWh != 0 && r.deficitWh != 0) revert EnergyTokenInvalidReading(r.meterId, r.interval);
        _recorded[r.meterId][r.interval] = true;

        uint256 burned;
        uint256 grid;
        if (r.surplusWh != 0) {
            _totalMinted += r.surplusWh;
            _mint(owner, r.surplusWh);
        } else if (r.deficitWh != 0) {
            uint256 held = balanceOf(owner);
            burned = r.deficitWh < held ? r.deficitWh : held;
            unchecked {
                // Cannot underflow: burned <= deficitWh.
                grid = r.deficitWh - burned;
            }
            if (burned != 0) {
                _totalBurned += burned;
                _burn(owner, burned);
            }
        }
        emit ReadingRecorded(r.meterId, r.interval, owner, r.surplusWh, burned, grid);
    }
}
