//! The AgentChain pallets (agents, inference, challenges, data rewards) and their constants.

use frame_support::{
	parameter_types,
	traits::{fungible::HoldConsideration, ConstU128, ConstU32, ConstU8, LinearStoragePrice},
};
use sp_runtime::Perbill;

use super::super::{
	AccountId, Agents, Balance, Balances, BlockNumber, Challenges, DataRewards, Inference, Runtime,
	RuntimeHoldReason, DAYS, HOURS, MICRO_UNIT, MILLI_UNIT, MINUTES, UNIT,
};
use super::OperatorAppCrypto;

/// Blocks unbonded stake stays held and slashable: twenty minutes, longer than any task with
/// its longest dispute.
pub const UNBONDING_PERIOD: BlockNumber = 20 * MINUTES;

parameter_types! {
	pub const AgentDepositReason: RuntimeHoldReason =
		RuntimeHoldReason::Agents(pallet_agents::HoldReason::AgentDeposit);
}

/// The agent registry. Dev values, sized for 3-second blocks; see `docs/agents.md` for the
/// reasoning.
impl pallet_agents::Config for Runtime {
	type OperatorCrypto = OperatorAppCrypto;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// 1 AGC per record, plus 0.01 AGC per byte of metadata and models.
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		AgentDepositReason,
		LinearStoragePrice<ConstU128<UNIT>, ConstU128<{ 10 * MILLI_UNIT }>, Balance>,
	>;
	type MinExecutorStake = ConstU128<{ 100 * UNIT }>;
	type MinVerifierStake = ConstU128<{ 100 * UNIT }>;
	type MinCuratorStake = ConstU128<{ 50 * UNIT }>;
	/// Longer than any challenge window (see `docs/agents.md`).
	type UnbondingPeriod = ConstU32<UNBONDING_PERIOD>;
	/// An agent silent for ten minutes stops being selected.
	type LivenessPeriod = ConstU32<{ 10 * MINUTES }>;
	type MaxModels = ConstU32<16>;
	type MaxCandidates = ConstU32<64>;
	type MaxUnbondingChunks = ConstU32<8>;
	type MaxNameLen = ConstU32<64>;
	type MaxEndpointLen = ConstU32<256>;
	type MaxVersionLen = ConstU32<32>;
	type WeightInfo = pallet_agents::weights::SubstrateWeight<Runtime>;
}

/// Randomness on a solo chain without VRF: the hash of a chosen block, mixed with the subject.
/// The pallets draw from the hash of the block in which the party who triggered the draw acted,
/// at a later block, so that nobody can compute the draw when it acts; only that block's author
/// can bias it. See `docs/economics.md`.
pub type BlockRandomness = agentchain_support::BlockHashRandomness<Runtime>;

parameter_types! {
	pub const InferencePalletId: frame_support::PalletId = frame_support::PalletId(*b"ac/infer");
	pub const InferenceProtocolCut: Perbill = Perbill::from_percent(10);
	/// The inference deadline hook's budget: 15 % of a block's weight (150 ms). With the
	/// challenges' hook (16 deadlines, at most about 84 ms), within the quarter of a block that
	/// normal transactions never use, so that a backlog of deadlines does not take room from
	/// transfers.
	pub InferenceDeadlineWeight: frame_support::weights::Weight =
		Perbill::from_percent(15) * super::RuntimeBlockWeights::get().max_block;
	/// The challenges hook's budget: 8 % of a block, four of its costliest transitions
	/// (counting the largest jury's votes then closing, 16.4 ms with the database). With the
	/// inference hook's 15 % and the others', every hook at its most stays in the quarter of a
	/// block normal transactions never use.
	pub ChallengesDeadlineWeight: frame_support::weights::Weight =
		Perbill::from_percent(8) * super::RuntimeBlockWeights::get().max_block;
}

/// Longest commit period a requester may give: five minutes.
pub const MAX_COMMIT_PERIOD: BlockNumber = 5 * MINUTES;
/// Blocks executors have to reveal: 30 seconds.
pub const REVEAL_PERIOD: BlockNumber = 10;
/// Challenge window: one minute.
pub const CHALLENGE_PERIOD: BlockNumber = MINUTES;
/// Blocks a duty's deadline (a commit, a reveal, a vote) moves on, once a phase, when blocks
/// before it were full.
pub const CONGESTION_GRACE: BlockNumber = 2;
/// Blocks a batch's requester has to reveal its audit secret once the batch's window has ended.
pub const AUDIT_SECRET_PERIOD: BlockNumber = 50;
/// A disputed task whose dispute is no longer being judged expires (refunded) after twelve
/// minutes; while it is, the timeout waits. Longer than a dispute with every appeal
/// (`LONGEST_DISPUTE`).
pub const DISPUTE_TIMEOUT: BlockNumber = 12 * MINUTES;
/// Stake taken from an executor whose result a dispute finds wrong, at least.
pub const WRONG_RESULT_SLASH: Balance = 20 * UNIT;
/// A wrong result is slashed at least 25 times its fee share.
pub const SLASH_FEE_MULTIPLE: u32 = 25;
/// The requester of a result found wrong is paid up to 19 times its fee out of the slash:
/// with 5 % audits, `5 % × (19 + 1) = 1`, so results nobody else checks cost requesters
/// nothing in expectation.
pub const COMPENSATION_FEE_MULTIPLE: u32 = 19;

/// The inference-task market. Dev values, sized for 3-second blocks; see `docs/inference.md`.
impl pallet_inference::Config for Runtime {
	type OperatorCrypto = OperatorAppCrypto;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AgentRegistry = Agents;
	/// Disagreements and audits are judged by juries.
	type Disputes = Challenges;
	/// Finalised tasks credit the datasets behind their model.
	type OnFinalised = DataRewards;
	type Randomness = BlockRandomness;
	type PalletId = InferencePalletId;
	type MinFeePerExecutor = ConstU128<{ 10 * MILLI_UNIT }>;
	type MaxRedundancy = ConstU32<5>;
	type MinCommitPeriod = ConstU32<3>;
	type MaxCommitPeriod = ConstU32<MAX_COMMIT_PERIOD>;
	type RevealPeriod = ConstU32<REVEAL_PERIOD>;
	type ChallengePeriod = ConstU32<CHALLENGE_PERIOD>;
	type DisputeTimeout = ConstU32<DISPUTE_TIMEOUT>;
	type RetentionPeriod = ConstU32<HOURS>;
	type ProtocolCut = InferenceProtocolCut;
	type MissedDeadlineSlash = ConstU128<UNIT>;
	/// As much as a wrong result: withholding a reveal never beats revealing it.
	type MissedRevealSlash = ConstU128<WRONG_RESULT_SLASH>;
	type MaxTokens = ConstU32<1024>;
	/// 64 tokens a block (about 21 a second) is within reach of a small model on modest
	/// hardware; a requester wanting more tokens gives a longer commit period.
	type TokensPerBlock = ConstU32<64>;
	/// A task pays for what it may store until it is pruned: 0.01 AGC, plus 1 µAGC a byte of
	/// its input and of its `redundancy` outputs (at most 0.04 AGC in all); returned when the
	/// task is pruned.
	type TaskDepositBase = ConstU128<{ 10 * MILLI_UNIT }>;
	type TaskDepositPerByte = ConstU128<MICRO_UNIT>;
	type MaxReassignments = ConstU32<2>;
	type MaxInputLen = ConstU32<4096>;
	type MaxOutputLen = ConstU32<4096>;
	type MaxUriLen = ConstU32<256>;
	/// The hook takes as many due deadlines as `MaxDeadlineWeight` holds, each charged the path
	/// it took (many more draws than the 64 it took before spec 125, fewer finalisations); this
	/// count only backs it up.
	type MaxDeadlinesPerBlock = ConstU32<1024>;
	type MaxDeadlineWeight = InferenceDeadlineWeight;
	/// A commit or reveal deadline that fell in full blocks moves two blocks on, once a phase.
	type CongestionGrace = ConstU32<CONGESTION_GRACE>;
	/// Two and a half minutes for a batch's requester to reveal its audit secret once the
	/// window has ended (`agentchain task reveal-audit-secret` waits for that end to be final,
	/// a few blocks, and sends it).
	type AuditSecretPeriod = ConstU32<AUDIT_SECRET_PERIOD>;
	/// Batches (`docs/batches.md`), taken once item disputes are judged: up to 1,024 items,
	/// whose inputs document parses in an off-chain worker's heap; a commit period sized for 8
	/// endpoint calls a block (an agent node runs as many as its endpoint answers).
	type MaxBatchItems = ConstU32<MAX_BATCH_ITEMS>;
	type ItemsPerBlock = ConstU32<8>;
	// A run's 3 s of calls at about 0.18 ms each, what an agent node's worker takes an item
	// against the reference server (which answers 12,800 a second alone, docs/benchmarks.md).
	// Outputs are written by pages of 64: a run writes about 512 pages to the node's database,
	// and a few records for each batch it works on.
	type BatchCallsPerRun = ConstU32<16384>;
	/// 0.0015 AGC an item, so that a batch is priced per item as a task is (an item's least
	/// slash, 3 AGC, is 2,000 times it, as a task's 20 AGC is of its 0.01 AGC).
	type MinFeePerItem = ConstU128<{ 1_500 * MICRO_UNIT }>;
	/// 0.0001 AGC a block of commit period: a task's minimum fee over its longest commit period.
	type MinFeePerSeatBlock = ConstU128<{ 100 * MICRO_UNIT }>;
	type MaxBatchCommitPeriod = ConstU32<DAYS>;
	/// A batch drawn to a busy executor is given the time its open batches take, when those
	/// take at most four of its commit periods (and a margin of a sixteenth and two blocks);
	/// past that the executor is full for it, and the draw takes another (by free stake).
	type MaxBatchStretch = ConstU32<4>;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const ChallengesPalletId: frame_support::PalletId =
		frame_support::PalletId(*b"ac/chlng");
	pub const AuditProbability: Perbill = Perbill::from_percent(5);
	pub const ChallengerShare: Perbill = Perbill::from_percent(25);
}

/// Blocks jurors have to commit their votes: 30 seconds to re-execute the task.
pub const JURY_COMMIT_PERIOD: BlockNumber = 10;
/// Blocks jurors have to reveal their votes.
pub const JURY_REVEAL_PERIOD: BlockNumber = 5;
/// Blocks the losing side has to appeal.
pub const APPEAL_PERIOD: BlockNumber = 5;
/// Most appeals of a dispute.
pub const MAX_APPEALS: u32 = 2;
/// The longest a dispute lasts when its deadlines are processed on time: a bisection's steps
/// (each extended once for full blocks) for a disagreement between two roots of a batch, an
/// item's showing
/// (extended once for full blocks) for a dispute over an item of a batch, then every round with
/// its jury draw (one block), commit and reveal (each extended once for full blocks) and appeal
/// window. When more deadlines fall due than blocks process, they are deferred, and the
/// inference pallet's dispute timeout waits for a dispute still being judged.
pub const LONGEST_DISPUTE: BlockNumber = MAX_BISECTION_STEPS
	* (BISECTION_STEP_PERIOD + CONGESTION_GRACE)
	+ ITEM_PROOF_PERIOD
	+ CONGESTION_GRACE
	+ (MAX_APPEALS + 1)
		* (1 + JURY_COMMIT_PERIOD + JURY_REVEAL_PERIOD + 2 * CONGESTION_GRACE + APPEAL_PERIOD);

parameter_types! {
	/// Whether the chain takes batches (`docs/batches.md`): every dispute over one is judged
	/// item by item (challenges, audits, and the bisection of a disagreement between two
	/// roots), but a chain turns them on only once root decides to. Kept in storage (key
	/// `twox128(":BatchesTaken:")`, a SCALE `bool`) so that root turns batches on with
	/// `system.set_storage`; off by default.
	pub storage BatchesTaken: bool = false;
}

/// Blocks to show a disputed item of a batch, its input and the disputed output hash.
pub const ITEM_PROOF_PERIOD: BlockNumber = 10;

/// Most items in a batch.
pub const MAX_BATCH_ITEMS: u32 = 1024;

/// Blocks each step of a bisection between two roots of a batch gives its executors to open
/// their nodes: a quarter of a minute, for a signed transaction their nodes send at once.
pub const BISECTION_STEP_PERIOD: BlockNumber = 5;

/// Most steps of a bisection: one per level of a batch's tree, the roots' and the leaves'
/// included, `depth(MAX_BATCH_ITEMS) + 2` (`agentchain_execution::merkle::root_level` + 1): 12
/// for 1,024 items.
pub const MAX_BISECTION_STEPS: BlockNumber = u32::BITS - (MAX_BATCH_ITEMS - 1).leading_zeros() + 2;

/// Challenge games. Dev values, sized for 3-second blocks; see `docs/challenges.md` for the
/// expected-value reasoning behind them.
impl pallet_challenges::Config for Runtime {
	type OperatorCrypto = OperatorAppCrypto;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AgentRegistry = Agents;
	type Tasks = Inference;
	type Randomness = BlockRandomness;
	type PalletId = ChallengesPalletId;
	type Treasury = Inference;
	type MinChallengeBond = ConstU128<{ 10 * UNIT }>;
	type ChallengeBondFeeMultiple = ConstU32<2>;
	type JurySize = ConstU32<3>;
	type MaxJurySize = ConstU32<15>;
	type MaxAppeals = ConstU32<MAX_APPEALS>;
	type MaxExecutors = ConstU32<5>;
	type CommitPeriod = ConstU32<JURY_COMMIT_PERIOD>;
	type RevealPeriod = ConstU32<JURY_REVEAL_PERIOD>;
	type AppealPeriod = ConstU32<APPEAL_PERIOD>;
	type WrongResultSlash = ConstU128<WRONG_RESULT_SLASH>;
	/// 5 % audits × (25 + 1) > 1: a wrong result loses money even if only audits check it.
	type SlashFeeMultiple = ConstU32<SLASH_FEE_MULTIPLE>;
	type JurorReward = ConstU128<{ 500 * MILLI_UNIT }>;
	type JurorPenalty = ConstU128<{ 250 * MILLI_UNIT }>;
	/// A quarter of what is left of a slash: enough to pay for checking, while a guilty
	/// executor's own challenge still loses it three quarters of the slash.
	type ChallengerShare = ChallengerShare;
	type AuditProbability = AuditProbability;
	type CompensationFeeMultiple = ConstU32<COMPENSATION_FEE_MULTIPLE>;
	/// At most 16 dispute deadlines are processed in one block, and no more than
	/// `ChallengesDeadlineWeight` (80 ms) of them: four at the worst (every one counting the
	/// largest jury's votes, then closing with the most jurors and executors); more wait for
	/// the next blocks.
	type MaxDeadlinesPerBlock = ConstU32<16>;
	type MaxDeadlineWeight = ChallengesDeadlineWeight;
	/// A vote deadline that fell in full blocks moves two blocks on, once a phase.
	type CongestionGrace = ConstU32<CONGESTION_GRACE>;
	/// Batches are taken once root turns them on ([`BatchesTaken`]).
	type BatchesTaken = BatchesTaken;
	type MaxItemLen = <Runtime as pallet_inference::Config>::MaxInputLen;
	/// Half a minute to show a disputed item's input and output hash, with their proofs.
	type ItemProofPeriod = ConstU32<ITEM_PROOF_PERIOD>;
	type BisectionStepPeriod = ConstU32<BISECTION_STEP_PERIOD>;
	// An item dispute's first jury is drawn again for as long as a disputed task waits for its
	// dispute (12 minutes), then the batch ends unjudged.
	type JuryWaitLimit = ConstU32<DISPUTE_TIMEOUT>;
	type WeightInfo = pallet_challenges::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const DataRewardsPalletId: frame_support::PalletId =
		frame_support::PalletId(*b"ac/data_");
	pub const DataUsageShare: Perbill = Perbill::from_percent(50);
}

/// Data-contribution rewards. Dev values, sized for 3-second blocks; see `docs/data-rewards.md`.
impl pallet_data_rewards::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AgentRegistry = Agents;
	type Treasury = Inference;
	type PalletId = DataRewardsPalletId;
	/// One-minute epochs, so that rewards show within a demo (and an end-to-end test); about a
	/// day in production.
	type EpochLength = ConstU32<MINUTES>;
	/// A day of dev epochs to claim.
	type ClaimPeriod = ConstU32<1440>;
	/// Half of each finalised task's protocol cut funds the data behind its model; the other
	/// half stays in the protocol account, which pays audits.
	type UsageShare = DataUsageShare;
	/// No new issuance: rewards only ever come from fees really paid.
	type IssuancePerEpoch = ConstU128<0>;
	type DatasetDeposit = ConstU128<{ 10 * UNIT }>;
	type ModelDeposit = ConstU128<{ 3 * UNIT }>;
	/// A curator reserves 1 AGC per attestation (2 % of the minimum curator stake, so 50
	/// attestations at once), and loses it for a score more than 30 points from the median.
	type CurationPenalty = ConstU128<UNIT>;
	type OutlierDistance = ConstU8<30>;
	/// Three curators' median makes a score: one or two cannot set a dataset's reward.
	type MinCurators = ConstU32<3>;
	type MaxDatasetsPerModel = ConstU32<16>;
	type MaxUriLen = ConstU32<256>;
	type MaxLicenseLen = ConstU32<64>;
	type MaxMetadataLen = ConstU32<512>;
	type WeightInfo = pallet_data_rewards::weights::SubstrateWeight<Runtime>;
}
