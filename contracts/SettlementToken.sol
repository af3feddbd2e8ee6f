// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ISettlementToken} from "../interfaces/ISettlementToken.sol";

/// @title SettlementToken: Microgrid Ringgit (mgMYR)
/// @notice Money of the market: 6 decimals, 1 unit = 0.000001 MYR, fully backed by top-ups the operator received.
/// @dev Six decimals keep per-Wh costs exact to a millionth of a ringgit: a price of 45.62 sen/kWh is 456 200
///      units/kWh, so one Wh costs 456.2 units and rounding loses at most one unit per fill.
contract SettlementToken is ISettlementToken, ERC20, AccessControl {
    /// @notice Role of the microgrid operator: issues tokens against top-ups.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    uint256 private _totalIssued;
    uint256 private _totalWithdrawn;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes roles; not the operator).
    /// @param operator Holder of OPERATOR_ROLE.
    constructor(address admin, address operator) ERC20("Microgrid Ringgit", "mgMYR") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, operator);
    }

    /// @notice 6 decimals: 1 unit = 0.000001 MYR.
    /// @return The number of decimals.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @inheritdoc ISettlementToken
    function topUp(address to, uint256 amount, bytes32 paymentRef) external onlyRole(OPERATOR_ROLE) {
        if (amount == 0) revert SettlementTokenZeroAmount();
        _totalIssued += amount;
        _mint(to, amount);
        emit ToppedUp(to, amount, paymentRef);
    }

    /// @inheritdoc ISettlementToken
    function withdraw(uint256 amount, bytes32 payoutRef) external {
        if (amount == 0) revert SettlementTokenZeroAmount();
        _totalWithdrawn += amount;
        _burn(msg.sender, amount); // reverts with ERC20InsufficientBalance
        emit Withdrawn(msg.sender, amount, payoutRef);
    }

    /// @inheritdoc ISettlementToken
    function totalIssued() external view returns (uint256) {
        return _totalIssued;
    }

    /// @inheritdoc ISettlementToken
    function totalWithdrawn() external view returns (uint256) {
        return _totalWithdrawn;
    }
}
