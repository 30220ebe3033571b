//! The priority lane of protocol duties.
//!
//! Executors' commits and reveals, jurors' vote commits and reveals, the openings of a
//! bisection's sides, disputed executors' showings of their items, batches' audit secrets, and
//! agents' due heartbeats
//! have deadlines that someone else's traffic must not make them miss: a flood of transfers at
//! the transaction pool's limit would otherwise keep them out of the pool and out of blocks, and
//! get honest agents slashed. [`PrioritizeDuties`] asks the pallets, when a transaction is
//! validated (entering the pool, and again when a block is built), whether its call is a duty of
//! its signer:
//!
//! - a duty gets [`DUTY_PRIORITY`] on top of its fee priority, so that it enters a full pool in
//!   place of ordinary transactions and is put in a block first; it provides a tag naming the
//!   duty (one transaction per duty is kept) and lives until the duty's last block;
//! - a `commit`, `reveal`, `commit_vote` or `reveal_vote` that is no duty of its signer (not
//!   assigned, not in its phase, already done, or late), and an `open_node` or a party's showing
//!   that dispatch would reject, is refused as invalid, before it reaches the pool: the lane
//!   cannot be spammed, since each assignment gives one duty of each kind (anyone may show a
//!   disputed item: a valid showing by anyone but the dispute's executors is ordinary traffic,
//!   one dispatch would reject is refused whoever sends it);
//! - every other call, a heartbeat that is not due included, is ordinary traffic.
//!
//! Commits, reveals, votes, openings and showings are also `Operational` dispatches: they fit
//! in the quarter of the block that ordinary (`Normal`) transactions cannot fill.

use crate::{Runtime, RuntimeCall, RuntimeOrigin, System};
use agentchain_primitives::duties::DutyCheck;
use alloc::vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::pallet_prelude::TransactionSource;
use scale_info::TypeInfo;
use sp_runtime::{
	impl_tx_ext_default,
	traits::{AsSystemOriginSigner, DispatchInfoOf, TransactionExtension, ValidateResult},
	transaction_validity::{InvalidTransaction, TransactionPriority, ValidTransaction},
	SaturatedConversion, Weight,
};

/// The priority a duty adds to its fee priority: above what any ordinary transaction reaches
/// without a tip of hundreds of AGC.
pub const DUTY_PRIORITY: TransactionPriority = TransactionPriority::MAX / 2;

/// What `call`, signed by `signer`, is: a duty, a refused pretence of one, or ordinary traffic.
pub fn duty_of(signer: &crate::AccountId, call: &RuntimeCall) -> DutyCheck<crate::BlockNumber> {
	match call {
		RuntimeCall::Inference(call) => pallet_inference::Pallet::<Runtime>::duty_of(signer, call),
		RuntimeCall::Challenges(call) => {
			pallet_challenges::Pallet::<Runtime>::duty_of(signer, call)
		},
		RuntimeCall::Agents(call) => pallet_agents::Pallet::<Runtime>::duty_of(signer, call),
		_ => None,
	}
}

/// Gives protocol duties priority, and refuses calls that pretend to be duties. See the module
/// documentation.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq, Default, TypeInfo)]
pub struct PrioritizeDuties;

impl core::fmt::Debug for PrioritizeDuties {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(f, "PrioritizeDuties")
	}
}

impl TransactionExtension<RuntimeCall> for PrioritizeDuties {
	const IDENTIFIER: &'static str = "PrioritizeDuties";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	fn weight(&self, _call: &RuntimeCall) -> Weight {
		// At most a task or dispute record, a bisection, the signer's operator record and its
		// agent record.
		<Runtime as frame_system::Config>::DbWeight::get().reads(4)
	}

	fn validate(
		&self,
		origin: RuntimeOrigin,
		call: &RuntimeCall,
		_info: &DispatchInfoOf<RuntimeCall>,
		_len: usize,
		_self_implicit: (),
		_inherited_implication: &impl Encode,
		_source: TransactionSource,
	) -> ValidateResult<(), RuntimeCall> {
		let Some(signer) = origin.as_system_origin_signer() else {
			return Ok((ValidTransaction::default(), (), origin));
		};
		match duty_of(signer, call) {
			None => Ok((ValidTransaction::default(), (), origin)),
			Some(Ok(duty)) => {
				let now = System::block_number();
				let longevity =
					duty.last_block.saturating_sub(now).saturating_add(1).saturated_into();
				let valid = ValidTransaction {
					priority: DUTY_PRIORITY,
					provides: vec![duty.tag],
					longevity,
					..Default::default()
				};
				Ok((valid, (), origin))
			},
			Some(Err(error)) => Err(InvalidTransaction::Custom(error as u8).into()),
		}
	}

	impl_tx_ext_default!(RuntimeCall; prepare);
}

#[cfg(test)]
mod tests;
