//! # AgentChain primitives
//!
//! Types and keys shared by the AgentChain node, runtime and pallets.
//!
//! Dependencies in the workspace point one way: `node → runtime → pallets → primitives`.
//! Pallets never depend on each other; what one needs from another is declared here as a trait
//! and wired together by the runtime.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use sp_runtime::{
	traits::{IdentifyAccount, Verify},
	MultiSignature,
};

/// Signature type of the chain's transactions.
pub type Signature = MultiSignature;

/// An account on the chain: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account, in the smallest unit (12 decimals make one `AGC`).
pub type Balance = u128;

/// Block number.
pub type BlockNumber = u32;

/// Transaction counter of an account.
pub type Nonce = u32;

/// A hash of some data.
pub type Hash = sp_core::H256;

/// Identifier of a model: the hash of its weights or of a canonical model name.
pub type ModelId = sp_core::H256;

/// Token symbol of the native currency.
pub const TOKEN_SYMBOL: &str = "AGC";
/// Number of decimals of the native currency.
pub const TOKEN_DECIMALS: u8 = 12;
/// SS58 address prefix (42 is the generic Substrate prefix, so standard tools work unchanged).
pub const SS58_PREFIX: u16 = 42;

/// One whole token.
pub const UNIT: Balance = 1_000_000_000_000;
/// A thousandth of a token.
pub const MILLI_UNIT: Balance = 1_000_000_000;
/// A millionth of a token.
pub const MICRO_UNIT: Balance = 1_000_000;

/// Key type of agent operator keys: the hot key an agent node's off-chain worker signs with.
pub const OPERATOR_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"agnt");

/// Operator keys (sr25519, key type `agnt`), held in an agent node's keystore.
pub mod operator {
	use super::OPERATOR_KEY_TYPE;
	use sp_application_crypto::{app_crypto, sr25519};

	app_crypto!(sr25519, OPERATOR_KEY_TYPE);
}

pub mod agents;
pub mod api;
pub mod challenges;
pub mod duties;
pub mod inference;
pub mod offchain;
