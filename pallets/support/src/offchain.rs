//! Sending signed transactions from an agent node's off-chain workers.
//!
//! The workers of consecutive blocks run in parallel, each on its own block's state, and sign
//! with the same operator keys: nonces are reserved in offchain local storage
//! ([`reserve_nonce`]) so that two workers never send the same one. A transaction that did not
//! reach a block is sent again at the lowest nonce the chain has not used, and the next ones
//! sent again by the same block's worker at the nonces after it ([`resend_nonce`]): if one was
//! lost from the pool, that fills the gap every later transaction waits on, and several sent
//! again together can all land in the next block.

use agentchain_primitives::offchain::{release_nonce, resend_nonce, reserve_nonce};
use codec::Encode;
use core::fmt;
use frame_system::offchain::{Account, AppCrypto, CreateSignedTransaction, SubmitTransaction};
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
	/// The operator key could not sign (it left the keystore) or the transaction could not be
	/// built.
	CannotSign,
}

/// Whether a transaction is sent for the first time or again.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Attempt {
	/// The first time: the next nonce reserved in offchain storage.
	First,
	/// Again, the earlier one not being in a block: the lowest nonce the chain has not used, or
	/// for a further resend of the same block the nonce after the last resend.
	Resend,
}

/// Signs `call` with `operator`'s key (one of the keystore's, as
/// `Signer::keystore_accounts` lists them) and submits it to the node's transaction pool, at
/// block `now`, with the nonce `attempt` calls for. The transaction is built by the runtime's
/// [`CreateSignedTransaction`] with that nonce: the worker's view of the chain is not touched.
pub fn send_signed<T, C, LocalCall>(
	operator: &Account<T>,
	call: LocalCall,
	attempt: Attempt,
	now: u64,
) -> Result<(), SendError>
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
{
	let account = operator.id.encode();
	let chain_next: u64 = frame_system::Pallet::<T>::account_nonce(&operator.id).saturated_into();
	// A fresh nonce (every first send's, and a resend's past the nonces handed out before) is
	// given back when its transaction is not sent.
	let (nonce, fresh) = match attempt {
		Attempt::First => reserve_nonce(&account, chain_next, now).map(|nonce| (nonce, true)),
		Attempt::Resend => resend_nonce(&account, chain_next, now),
	}
	.ok_or(SendError::NoNonce)?;
	log::debug!(
		target: LOG_TARGET,
		"{attempt:?} sending at nonce {nonce} (the chain's next: {chain_next}) at block {now}",
	);
	let sent = T::create_signed_transaction::<C>(
		call.into(),
		operator.public.clone(),
		operator.id.clone(),
		nonce.saturated_into(),
	)
	.ok_or(SendError::CannotSign)
	.and_then(|transaction| {
		SubmitTransaction::<T, LocalCall>::submit_transaction(transaction)
			.map_err(|()| SendError::Refused)
	});
	if sent.is_err() && fresh {
		release_nonce(&account, nonce);
	}
	sent
}

/// [`send_signed`], logging the outcome for `what` (for example `task 7`): failures are
/// followed by a resend from the next block's worker while the duty is still due, so they
/// are warnings, and a refused resend (most likely the earlier transaction still pending) is
/// only a debug line.
pub fn send_signed_logged<T, C, LocalCall>(
	operator: &Account<T>,
	call: LocalCall,
	attempt: Attempt,
	now: u64,
	what: fmt::Arguments,
) -> Result<(), SendError>
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
{
	let sent = send_signed::<T, C, LocalCall>(operator, call, attempt, now);
	match sent {
		Ok(()) => log::debug!(target: LOG_TARGET, "{what}: sent"),
		Err(SendError::NoNonce) => log::warn!(
			target: LOG_TARGET,
			"{what}: no nonce could be reserved; it is sent again next block",
		),
		Err(SendError::Refused) if attempt == Attempt::Resend => log::debug!(
			target: LOG_TARGET,
			"{what}: the resend was refused (the earlier transaction is most likely still pending)",
		),
		Err(SendError::Refused) => log::warn!(
			target: LOG_TARGET,
			"{what}: the transaction pool refused the transaction; it is sent again next block if still needed",
		),
		Err(SendError::CannotSign) => {
			log::error!(target: LOG_TARGET, "{what}: the operator key cannot sign")
		},
	}
	sent
}
