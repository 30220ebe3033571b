//! # AgentChain pallet support
//!
//! Code that needs frame types and is shared by several AgentChain pallets (types and traits
//! that need no frame crate live in `agentchain-primitives`):
//!
//! - [`deadlines`]: block-indexed deadline queues that never refuse an entry and never drop
//!   one: a block processes at most a bounded number of due entries, and what it cannot take
//!   waits, in order, for the next blocks.
//! - [`draw`]: a stake-weighted draw without replacement whose reads do not grow with the
//!   candidate set: rejection against upper weights, with the law of a scan of every record.
//! - [`randomness`]: seeds taken from the hash of a chosen block, so that a draw can be tied to
//!   a block that did not exist yet when the party who triggered it acted.
//! - [`congestion`]: which recent blocks were full, so that a deadline that fell in them can be
//!   extended rather than decide who is slashed.
//! - [`offchain`]: signed transactions from off-chain workers, with nonces that parallel
//!   workers never share and resends that fill the gaps lost transactions leave.
//! - `mock_helpers` (feature `mock-helpers`): what the pallets' test runtimes share, as
//!   `pallet_message_queue::mock_helpers` does for its users.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod congestion;
pub mod deadlines;
pub mod draw;
#[cfg(feature = "mock-helpers")]
pub mod mock_helpers;
pub mod offchain;
pub mod randomness;

pub use deadlines::DeadlineQueue;
pub use randomness::{BlockHashRandomness, BlockRandomness};
