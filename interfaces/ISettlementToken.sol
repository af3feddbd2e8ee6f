// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Settlement token: Microgrid Ringgit (mgMYR), 6 decimals, 1 unit = 0.000001 MYR
/// @notice Issued by the operator when a user tops up with real money, burned when the user withdraws.
///         Market prices are quoted in settlement units per kWh.
interface ISettlementToken {
    /// @notice Thrown when an amount is zero.
    error SettlementTokenZeroAmount();

    /// @notice Emitted when the operator issues tokens against a top-up.
    /// @param to The account credited.
    /// @param amount Units issued.
    /// @param paymentRef Operator's payment reference (e.g. hash of the bank transfer id).
    event ToppedUp(address indexed to, uint256 amount, bytes32 indexed paymentRef);

    /// @notice Emitted when a holder burns tokens to be paid out.
    /// @param from The account debited.
    /// @param amount Units burned.
    /// @param payoutRef Holder's payout reference for the operator.
    event Withdrawn(address indexed from, uint256 amount, bytes32 indexed payoutRef);

    /// @notice Issues `amount` units to `to` against a payment received. Operator only.
    /// @param to The account to credit.
    /// @param amount Units to issue, not zero.
    /// @param paymentRef The operator's payment reference.
    function topUp(address to, uint256 amount, bytes32 paymentRef) external;

    /// @notice Burns `amount` of the caller's units; the operator pays the money out off chain.
    /// @param amount Units to burn, not zero.
    /// @param payoutRef Reference the operator uses for the payout.
    function withdraw(uint256 amount, bytes32 payoutRef) external;

    /// @notice Total issued by top-ups since deployment.
    /// @return The total.
    function totalIssued() external view returns (uint256);

    /// @notice Total burned by withdrawals since deployment.
    /// @return The total.
    function totalWithdrawn() external view returns (uint256);
}
