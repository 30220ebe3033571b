//! The heartbeat off-chain worker: keeps an agent node's agents selectable.
//!
//! An agent not heard from for [`Config::LivenessPeriod`] blocks is no longer selected for work.
//! On an agent node (a node given an inference endpoint, see
//! [`agentchain_primitives::offchain`]) this worker sends [`heartbeat`](Pallet::heartbeat),
//! signed by each operator key in the node's keystore, once half the liveness period has passed
//! since the agent was last seen. A heartbeat not on chain [`resend_after`] blocks after it was
//! sent is sent again; the block it was sent at is kept in offchain local storage, so a restart
//! does not send it twice.

use crate::{AgentStatus, Call, Config, Operators, Pallet, Registry};
use agentchain_execution::{heartbeat_due, heartbeat_resend_after};
use agentchain_primitives::offchain::{EndpointConfig, ENDPOINT_CONFIG_KEY};
use agentchain_support::offchain::{send_signed_logged, Attempt};
use codec::Encode;
use frame_support::traits::Get;
use frame_system::{offchain::Signer, pallet_prelude::BlockNumberFor};
use sp_runtime::{offchain::storage::StorageValueRef, SaturatedConversion};

/// Prefix of the offchain storage keys holding when each operator key last sent a heartbeat.
const SENT_PREFIX: &[u8] = b"agentchain::agents::heartbeat::";

/// Blocks after which a heartbeat that has not reached the chain is sent again: a quarter of the
/// liveness period.
pub fn resend_after<T: Config>() -> BlockNumberFor<T> {
	heartbeat_resend_after(T::LivenessPeriod::get().saturated_into()).saturated_into()
}

impl<T: Config> Pallet<T> {
	/// Sends the heartbeats due at block `now` from this node's operator keys. Does nothing on a
	/// node that serves no inference endpoint.
	pub fn send_heartbeats(now: BlockNumberFor<T>) {
		if !matches!(
			StorageValueRef::persistent(ENDPOINT_CONFIG_KEY).get::<EndpointConfig>(),
			Ok(Some(_))
		) {
			return;
		}
		let period: u64 = T::LivenessPeriod::get().saturated_into();
		for operator in Signer::<T, T::OperatorCrypto>::keystore_accounts() {
			let agent = Operators::<T>::get(&operator.id).unwrap_or_else(|| operator.id.clone());
			let Some(info) = Registry::<T>::get(&agent) else { continue };
			let key = [SENT_PREFIX, &operator.id.encode()].concat();
			let sent = StorageValueRef::persistent(&key);
			let mut resent = false;
			// The rule the edge agent follows too; an unreadable record counts as none.
			let due = sent.mutate::<BlockNumberFor<T>, (), _>(|last| {
				let last = last.ok().flatten().map(|at| at.saturated_into::<u64>());
				match heartbeat_due(
					info.status == AgentStatus::Leaving,
					info.last_seen.saturated_into(),
					last,
					now.saturated_into(),
					period,
				) {
					Some(resend) => {
						resent = resend;
						Ok(now)
					},
					None => Err(()),
				}
			});
			if due.is_err() {
				continue;
			}
			// A heartbeat sent before and not on chain yet is sent again at the lowest nonce the
			// chain has not used (see `agentchain_support::offchain`).
			let attempt = if resent { Attempt::Resend } else { Attempt::First };
			let _ = send_signed_logged::<T, T::OperatorCrypto, _>(
				&operator,
				Call::heartbeat {},
				attempt,
				now.saturated_into(),
				format_args!("the heartbeat of agent {agent:?}"),
			);
		}
	}
}

#[cfg(test)]
mod tests;
