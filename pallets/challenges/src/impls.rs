//! What the challenges pallet provides to the inference pallet: disputes opened on
//! disagreements and audits ([`DisputeHandler`]).

use super::*;

impl<T: Config> Pallet<T> {
	/// Opens a dispute without a bond (a disagreement or an audit), inside a storage layer so
	/// that nothing is kept when no jury can be drawn.
	pub(crate) fn open_unbonded(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
		kind: DisputeKind<T::AccountId>,
	) -> DispatchResult {
		frame_support::storage::with_storage_layer(|| {
			ensure!(!Disputes::<T>::contains_key(task), Error::<T>::NotChallengeable);
			Self::open(task, view.clone(), kind, Default::default(), Zero::zero())
		})
	}

	/// Whether the result of a task is drawn for an audit, from `seed`.
	/// Without a seed (its block's hash is no longer known), the result is audited: nobody may
	/// pick a seed by choosing when the deadline is processed.
	pub(crate) fn audit_drawn(seed: Option<[u8; 32]>) -> bool {
		let probability = T::AuditProbability::get();
		if probability.is_zero() {
			return false;
		}
		let Some(seed) = seed else { return true };
		let seed = sp_io::hashing::blake2_256(&(b"challenges/audit", seed).encode());
		let draw = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]);
		Perbill::from_rational(draw, u32::MAX) < probability || probability == Perbill::one()
	}
}

impl<T: Config> DisputeHandler<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn on_disagreement(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
	) -> DispatchResult {
		Self::open_unbonded(task, view, DisputeKind::Disagreement)
	}

	fn audit(
		task: TaskId,
		view: &DisputedTask<T::AccountId, BalanceOf<T>>,
		seed: Option<[u8; 32]>,
	) -> bool {
		Self::audit_drawn(seed) && Self::open_unbonded(task, view, DisputeKind::Audit).is_ok()
	}

	fn is_judging(task: TaskId) -> bool {
		Disputes::<T>::contains_key(task)
	}

	fn max_executor_slash(share: BalanceOf<T>) -> BalanceOf<T> {
		Self::wrong_result_slash(share)
	}

	fn max_weight() -> Weight {
		T::WeightInfo::open_dispute()
	}

	fn batch_terms() -> BatchTerms<BalanceOf<T>> {
		let jury = T::JurySize::get();
		let jury_pay = T::JurorReward::get().saturating_mul(jury.into());
		BatchTerms {
			// Item disputes (a dispute over one item of a batch, its input and outputs shown
			// with their Merkle proofs) are not judged yet: the chain takes no batch.
			items_judged: false,
			item_slash_floor: jury_pay.saturating_mul(2u32.into()),
			slash_fee_multiple: T::SlashFeeMultiple::get(),
			item_disputes: MAX_ITEM_DISPUTES,
			jurors_needed: (0..=T::MaxAppeals::get())
				.fold(0u32, |sum, round| sum.saturating_add(Self::jury_size(round))),
			juror_collateral: T::JurorPenalty::get(),
			jury_deposit: jury_pay,
			jury_commit_blocks: T::CommitPeriod::get().saturated_into(),
		}
	}
}
