//! The heartbeat off-chain worker: keeps an agent node's agents selectable.
//!
//! An agent not heard from for [`Config::LivenessPeriod`] blocks is no longer selected for work.
//! On an agent node (a node given an inference endpoint, see
//! [`agentchain_primitives::offchain`]) this worker sends [`heartbeat`](Pallet::heartbeat),
//! signed by each operator key in the node's keystore, once half the liveness period has passed
//! since the agent was last seen. A heartbeat not on chain [`resend_after`] blocks after it was
//! sent is sent again; the block it was sent at is kept in offchain local storage, so a restart
//! does not send it twice.

use crate::{AgentStatus, Agents, Call, Config, Operators, Pallet, LOG_TARGET};
use agentchain_primitives::offchain::{
	release_nonce, reserve_nonce, EndpointConfig, ENDPOINT_CONFIG_KEY,
};
use alloc::vec;
use codec::Encode;
use frame_support::traits::Get;
use frame_system::{
	offchain::{SendSignedTransaction, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_runtime::{offchain::storage::StorageValueRef, SaturatedConversion, Saturating};

/// Prefix of the offchain storage keys holding when each operator key last sent a heartbeat.
const SENT_PREFIX: &[u8] = b"agentchain::agents::heartbeat::";

/// Blocks after which a heartbeat that has not reached the chain is sent again: a quarter of the
/// liveness period.
pub fn resend_after<T: Config>() -> BlockNumberFor<T> {
	T::LivenessPeriod::get() / 4u32.into()
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
		let half_period = T::LivenessPeriod::get() / 2u32.into();
		for operator in Signer::<T, T::OperatorCrypto>::keystore_accounts() {
			let agent = Operators::<T>::get(&operator.id).unwrap_or_else(|| operator.id.clone());
			let Some(info) = Agents::<T>::get(&agent) else { continue };
			if info.status == AgentStatus::Leaving
				|| now.saturating_sub(info.last_seen) < half_period
			{
				continue;
			}
			let key = [SENT_PREFIX, &operator.id.encode()].concat();
			let sent = StorageValueRef::persistent(&key);
			let due = sent.mutate::<BlockNumberFor<T>, (), _>(|last| match last {
				Ok(Some(at))
					if at > info.last_seen && now < at.saturating_add(resend_after::<T>()) =>
				{
					Err(())
				},
				_ => Ok(now),
			});
			if due.is_err() {
				continue;
			}
			// The nonce is reserved in offchain storage, shared with the other workers that sign
			// with operator keys (see `reserve_nonce`); the signer takes it from state, and a
			// worker's state changes are discarded.
			let account = operator.id.encode();
			let chain_next =
				frame_system::Pallet::<T>::account_nonce(&operator.id).saturated_into();
			let Some(nonce) = reserve_nonce(&account, chain_next, now.saturated_into()) else {
				continue;
			};
			frame_system::Account::<T>::mutate(&operator.id, |info| {
				info.nonce = nonce.saturated_into()
			});
			let result = Signer::<T, T::OperatorCrypto>::any_account()
				.with_filter(vec![operator.public.clone()])
				.send_signed_transaction(|_| Call::heartbeat {});
			if !matches!(result, Some((_, Ok(())))) {
				release_nonce(&account, nonce);
			}
			match result {
				Some((_, Ok(()))) => {
					log::debug!(target: LOG_TARGET, "heartbeat sent for agent {agent:?}")
				},
				_ => {
					log::warn!(target: LOG_TARGET, "the heartbeat of agent {agent:?} could not be sent")
				},
			}
		}
	}
}

#[cfg(test)]
mod tests;
