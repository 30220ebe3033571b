//! Sending signed transactions from an agent node's off-chain workers.
//!
//! The workers of consecutive blocks run in parallel, each on its own block's state, and sign
//! with the same operator keys: nonces are reserved in offchain local storage
//! ([`reserve_nonce`]) so that two workers never send the same one. A transaction that did not
//! reach a block is sent again at the lowest nonce the chain has not used ([`resend_nonce`]):
//! if it was lost from the pool, that fills the gap every later transaction waits on.

use agentchain_primitives::offchain::{release_nonce, resend_nonce, reserve_nonce};
use alloc::vec;
use codec::Encode;
use frame_system::offchain::{
	Account, AppCrypto, CreateSignedTransaction, SendSignedTransaction, Signer,
};
use sp_runtime::SaturatedConversion;

/// The log target of what the workers send.
pub const LOG_TARGET: &str = "runtime::offchain";

/// Why a transaction was not sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SendError {
	/// Offchain local storage could not be updated to reserve a nonce.
	NoNonce,
	/// The transaction pool refused the transaction (for a resend: most likely because the
	/// earlier one, or another duty at that nonce, is still pending).
	Refused,
	/// The operator key is not in the keystore.
	CannotSign,
}

/// Whether a transaction is sent for the first time or again.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Attempt {
	/// The first time: the next nonce reserved in offchain storage.
	First,
	/// Again, the earlier one not being in a block: the lowest nonce the chain has not used.
	Resend,
}

/// Signs `call` with `operator`'s key and submits it to the node's transaction pool, at block
/// `now`, with the nonce `attempt` calls for.
pub fn send_signed<T, C, LocalCall>(
	operator: &Account<T>,
	call: LocalCall,
	attempt: Attempt,
	now: u64,
) -> Result<(), SendError>
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
	LocalCall: Clone,
{
	let account = operator.id.encode();
	let chain_next: u64 = frame_system::Pallet::<T>::account_nonce(&operator.id).saturated_into();
	let nonce = match attempt {
		Attempt::First => reserve_nonce(&account, chain_next, now),
		Attempt::Resend => resend_nonce(&account, chain_next, now),
	}
	.ok_or(SendError::NoNonce)?;
	log::debug!(
		target: LOG_TARGET,
		"{attempt:?} sending at nonce {nonce} (the chain's next: {chain_next}) at block {now}",
	);
	// The signer takes the nonce from state; a worker's state changes are discarded.
	frame_system::Account::<T>::mutate(&operator.id, |info| info.nonce = nonce.saturated_into());
	let sent = Signer::<T, C>::any_account()
		.with_filter(vec![operator.public.clone()])
		.send_signed_transaction(|_| call.clone());
	let error = match sent {
		Some((_, Ok(()))) => return Ok(()),
		Some((_, Err(()))) => SendError::Refused,
		None => SendError::CannotSign,
	};
	if attempt == Attempt::First {
		release_nonce(&account, nonce);
	}
	Err(error)
}
