// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITradingMandate} from "../../interfaces/ITradingMandate.sol";
import {OfferLib} from "./OfferLib.sol";

/// @title MandateLib: the pure parts of TradingMandate (EIP-712 struct hash and domain, weights packing)
/// @dev EIP-712 as OpenZeppelin's EIP712 computes it, written out because that contract does not compile for EVM
///      berlin (see OfferLib). The `weights` array is hashed as EIP-712 encodes arrays: keccak256 of its elements,
///      each as one 32-byte word (energy_chain/mandate.py builds the same typed data for eth_signTypedData_v4).
library MandateLib {
    string internal constant NAME = "EnergyTradingMandate";
    string internal constant VERSION = "1";
    bytes32 internal constant MANDATE_TYPEHASH = keccak256(
        "Mandate(address owner,address agent,uint128 minSellPrice,uint128 maxBuyPrice,uint128 reserveWh,"
        "uint128 dailySpendCap,uint8 venues,uint8[6] weights,uint64 validUntil,uint256 nonce,uint256 deadline)"
    );

    /// @notice hashStruct of a Mandate.
    /// @param owner The household.
    /// @param t The terms.
    /// @param nonce The owner's nonce.
    /// @param deadline The signature's deadline.
    /// @return The struct hash.
    function structHash(address owner, ITradingMandate.Terms calldata t, uint256 nonce, uint256 deadline)
        internal
        pure
        returns (bytes32)
    {
        bytes32 weightsHash = keccak256(abi.encode(t.weights));
        return keccak256(
            bytes.concat(
                abi.encode(MANDATE_TYPEHASH, owner, t.agent, t.minSellPrice, t.maxBuyPrice, t.reserveWh),
                abi.encode(t.dailySpendCap, t.venues, weightsHash, t.validUntil, nonce, deadline)
            )
        );
    }

    /// @notice The EIP-712 domain separator of `verifyingContract` on the current chain.
    /// @param verifyingContract The mandate contract.
    /// @return The separator.
    function domainSeparator(address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                OfferLib.DOMAIN_TYPEHASH,
                keccak256(bytes(NAME)),
                keccak256(bytes(VERSION)),
                block.chainid,
                verifyingContract
            )
        );
    }

    /// @notice Six uint8 weights packed into 48 bits (weights[0] in the lowest byte).
    /// @param w The weights.
    /// @return packed The packed weights.
    function pack(uint8[6] calldata w) internal pure returns (uint48 packed) {
        for (uint256 i; i < 6; ++i) {
            packed |= uint48(w[i]) << uint48(8 * i);
        }
    }

    /// @notice The inverse of `pack`.
    /// @param packed The packed weights.
    /// @return w The weights.
    function unpack(uint48 packed) internal pure returns (uint8[6] memory w) {
        for (uint256 i; i < 6; ++i) {
            w[i] = uint8(packed >> uint48(8 * i));
        }
    }
}
