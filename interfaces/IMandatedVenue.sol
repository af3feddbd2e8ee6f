// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IMandatedVenue: what every venue with "for owner" entry points shares (the TradingMandate it asks)
/// @notice An agent trades for an owner through a venue's `...For(owner, ...)` functions; the venue asks the
///         TradingMandate set here (ITradingMandate.authorize) before it moves any of the owner's tokens. Until the
///         admin sets one, every "for owner" call reverts with VenueMandateNotSet.
interface IMandatedVenue {
    /// @notice No TradingMandate is set: "for owner" trading is off.
    error VenueMandateNotSet();

    /// @notice The admin set the TradingMandate (address 0: "for owner" trading off).
    /// @param mandate The TradingMandate contract.
    event MandateSet(address indexed mandate);

    /// @notice Set the TradingMandate this venue asks (0 turns "for owner" trading off). Admin only.
    /// @param mandate_ The TradingMandate contract.
    function setMandate(address mandate_) external;

    /// @notice The TradingMandate this venue asks (0: none).
    /// @return The address.
    function mandate() external view returns (address);
}
