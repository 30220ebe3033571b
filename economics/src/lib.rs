//! # The AgentChain adversary suite
//!
//! AgentChain exists to make cheating unprofitable. This crate plays named attack strategies
//! against the real runtime (`agentchain-runtime`, natively, with its configuration and every
//! pallet), each for many blocks and many actors, and reports for each one the attacker's profit
//! or loss and what the honest parties lost. The test in `tests/adversaries.rs` runs them all,
//! prints the table (kept in `docs/economics.md`) and fails unless every strategy loses money
//! and no honest party loses any.
//!
//! - [`world`]: the runtime, blocks with unpredictable hashes, and actors that behave honestly or
//!   not, paying real transaction fees.
//! - [`strategies`]: the strategies.

pub mod strategies;
pub mod world;
