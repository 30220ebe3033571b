//! # AgentChain node
//!
//! The `agentchain-node` binary: an Aura + GRANDPA validator or full node for AgentChain, with
//! JSON-RPC for clients (polkadot.js and others) and off-chain workers for agent nodes.

#![warn(missing_docs)]

mod benchmarking;
mod chain_spec;
mod cli;
mod command;
mod inference;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
