// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IMandatedVenue: what every venue with "for owner" entry points shares (the TradingMandate it asks)
/// @notice An agent trades for an owner through a venue's `...For(owner, ...)` functions; the venue asks the
///         TradingMandate set here (ITradingMandate.authorize) before it moves any of the owner's tokens. Until the
///         admin sets one, every "for owner" call reverts with VenueMandateNotSet. It is set ONCE: a venue admin
///         who could swap it later for a contract that authorizes anything could place orders for any holder that
///         approved the venue; fixed at set-up, holders can check it before they approve (docs/security.md).
interface IMandatedVenue {
    /// @notice No TradingMandate is set: "for owner" trading is off.
    error VenueMandateNotSet();
    /// @notice The TradingMandate is set already (or the address given is zero): it is set once.
    error VenueMandateFixed(address mandate);

    /// @notice The admin set the TradingMandate (once).
    /// @param mandate The TradingMandate contract.
    event MandateSet(address indexed mandate);

    /// @notice Set the TradingMandate this venue asks, once (VenueMandateFixed afterwards, or for 0). Admin only.
    /// @param mandate_ The TradingMandate contract.
    function setMandate(address mandate_) external;

    /// @notice The TradingMandate this venue asks (0: none).
    /// @return The address.
    function mandate() external view returns (address);
}
