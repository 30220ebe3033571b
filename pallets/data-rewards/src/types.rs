//! Types stored by the data-rewards pallet, and the reward arithmetic on them.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::AtLeast32BitUnsigned, Rounding,
	SaturatedConversion,
};

/// Identifier of a dataset: a counter, assigned in registration order and never reused.
pub type DatasetId = u64;

/// Index of a reward epoch, counted from genesis.
pub type EpochIndex = u32;

/// The highest quality score a curator may give.
pub const MAX_SCORE: u8 = 100;

/// The score of a dataset that no curator attested in an epoch: the middle of the scale, so an
/// unrated dataset is neither favoured nor ignored.
pub const DEFAULT_SCORE: u8 = 50;

/// The datasets a model record names: sorted, without duplicates.
pub type DatasetsOf<T> = BoundedVec<DatasetId, <T as Config>::MaxDatasetsPerModel>;

/// Whether a dataset still earns.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DatasetStatus {
	/// Credited with usage and open to attestations.
	Active,
	/// Retired by its owner in epoch `since`: no new usage or attestations; what it earned
	/// before stays claimable.
	Retired {
		/// The epoch in which it was retired.
		since: EpochIndex,
	},
}

/// A dataset's reward account: its activity in its latest active epoch, and what it was owed
/// for earlier epochs. Settled (the activity turned into `owed`) when the dataset is touched in a
/// later epoch — by a credit, an attestation or a claim — so no hook ever loops over datasets.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Ledger<Balance> {
	/// The epoch that `usage`, `cut`, `score_sum` and `stake_sum` belong to.
	pub epoch: EpochIndex,
	/// Funds moved into the pot on behalf of this dataset in `epoch`.
	pub usage: Balance,
	/// Protocol cut paid by the tasks that credited this dataset in `epoch` (the bound on its
	/// reward for the epoch).
	pub cut: Balance,
	/// Σ stake × score of the curators that attested this dataset in `epoch`.
	pub score_sum: u128,
	/// Σ stake of those curators.
	pub stake_sum: u128,
	/// Rewards of settled epochs, not yet claimed.
	pub owed: Balance,
}

impl<Balance: AtLeast32BitUnsigned + Copy> Ledger<Balance> {
	/// An empty ledger for `epoch`.
	pub fn new(epoch: EpochIndex) -> Self {
		Self {
			epoch,
			usage: Balance::zero(),
			cut: Balance::zero(),
			score_sum: 0,
			stake_sum: 0,
			owed: Balance::zero(),
		}
	}

	/// Whether nothing happened to the dataset in `epoch`.
	pub fn is_idle(&self) -> bool {
		self.usage.is_zero() && self.cut.is_zero() && self.stake_sum == 0
	}

	/// Starts `epoch` with no activity, keeping what is owed.
	pub fn reset(&mut self, epoch: EpochIndex) {
		*self = Self { owed: self.owed, ..Self::new(epoch) };
	}

	/// The dataset's reward weight in `epoch`: `usage × score / 100`, rounded down, where the
	/// score is the stake-weighted mean of the attested scores, or [`DEFAULT_SCORE`] if none.
	/// Never more than `usage`.
	pub fn weight(&self) -> u128 {
		let usage: u128 = self.usage.saturated_into();
		let (numerator, denominator) = if self.stake_sum == 0 {
			(DEFAULT_SCORE.into(), MAX_SCORE.into())
		} else {
			(self.score_sum, self.stake_sum.saturating_mul(MAX_SCORE.into()))
		};
		multiply_by_rational_with_rounding(usage, numerator, denominator, Rounding::Down)
			.unwrap_or(0)
			.min(usage)
	}

	/// The dataset's reward for its epoch, closed with `info`: its weight share of the pot, but
	/// never more than its usage share of the pot, nor the protocol cut its usage paid, nor what
	/// is left of the pot. Rounded down, so the rewards of an epoch never exceed its pot.
	pub fn reward(&self, info: &EpochInfo<Balance>) -> Balance {
		let weight = self.weight();
		let usage: u128 = self.usage.saturated_into();
		let paid_in: u128 = info.paid_in.saturated_into();
		if weight == 0 || info.total_weight == 0 || paid_in == 0 {
			return Balance::zero();
		}
		let pot: u128 = info.pot.saturated_into();
		let share = |part: u128, whole: u128| {
			multiply_by_rational_with_rounding(pot, part.min(whole), whole, Rounding::Down)
				.unwrap_or(0)
		};
		let reward = share(weight, info.total_weight).min(share(usage, paid_in));
		reward
			.saturated_into::<Balance>()
			.min(self.cut)
			.min(info.pot.saturating_sub(info.settled))
	}
}

/// Everything the chain records about a dataset, except its descriptive metadata.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct DatasetInfo<T: Config> {
	/// The contributor: registered the dataset, paid its deposit, claims its rewards.
	pub owner: T::AccountId,
	/// Hash of the data, unique among registered datasets.
	pub content_hash: H256,
	/// Size of the data, in bytes.
	pub size: u64,
	/// The storage deposit held from the owner.
	pub deposit: BalanceOf<T>,
	/// Whether it still earns.
	pub status: DatasetStatus,
	/// How many model records name it. It can only be removed when none does.
	pub models: u32,
	/// Block of registration.
	pub registered_at: BlockNumberFor<T>,
	/// Its reward account.
	pub ledger: Ledger<BalanceOf<T>>,
}

/// Descriptive data of a dataset, kept apart from [`DatasetInfo`] so that crediting usage never
/// reads it. Bounded in length; UTF-8 by convention (not checked on chain).
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct DatasetMetadata<T: Config> {
	/// Where the data can be fetched.
	pub uri: BoundedVec<u8, T::MaxUriLen>,
	/// The data's license (an SPDX identifier, say).
	pub license: BoundedVec<u8, T::MaxLicenseLen>,
	/// Free-form description.
	pub description: BoundedVec<u8, T::MaxMetadataLen>,
}

/// The datasets a model was trained on or retrieves from.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ModelRecord<T: Config> {
	/// Its first declarer (an agent serving the model), the only account that may change it.
	pub owner: T::AccountId,
	/// The datasets, sorted; retired ones earn nothing and can be unlinked by anyone.
	pub datasets: DatasetsOf<T>,
	/// The storage deposit held from the owner.
	pub deposit: BalanceOf<T>,
}

/// Totals of one epoch: built up while it is current, fixed when it closes, removed when its
/// claim period ends.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct EpochInfo<Balance> {
	/// Funds moved into the pot by finalised tasks in the epoch: the sum of the datasets' usage.
	pub paid_in: Balance,
	/// Protocol cut paid by those tasks.
	pub cut: Balance,
	/// Σ of the datasets' reward weights, kept up to date at every credit and attestation.
	pub total_weight: u128,
	/// What the epoch pays out: `paid_in`, topped up from the reserve and issuance up to `cut`.
	/// Set when the epoch closes.
	pub pot: Balance,
	/// Rewards of the epoch settled to datasets so far.
	pub settled: Balance,
}

/// The current epoch, and the block it started at.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct EpochClock<BlockNumber> {
	/// Index of the current epoch.
	pub index: EpochIndex,
	/// First block of the current epoch.
	pub start: BlockNumber,
}
