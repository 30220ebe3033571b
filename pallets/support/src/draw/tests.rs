//! The draw against the law of a draw that reads every record, on sets built to mislead it:
//! upper weights far above the agents' (silent, locked, slashed), rejected seats next to others,
//! excluded agents, sets larger than its attempts.

use super::*;
use std::collections::BTreeMap;

/// A set in memory: seats in chunks with upper weights, each agent's weight in a draw, what the
/// draw read.
#[derive(Default)]
struct Set {
	chunks: Vec<Vec<Option<(u32, u128)>>>,
	/// Agents' weights in the draw (absent: 0).
	weights: BTreeMap<u32, u128>,
	/// Upper weights a read reports to store (a silent agent's 0, say).
	store: BTreeMap<u32, u128>,
	/// Agents whose record was read, in order.
	read: Vec<u32>,
}

impl Set {
	/// Seats of `(agent, upper weight, weight in the draw)`, `chunk` seats a chunk; `None` is an
	/// empty seat.
	fn new(chunk: usize, seats: &[Option<(u32, u128, u128)>]) -> Self {
		let mut set = Set::default();
		for seats in seats.chunks(chunk) {
			set.chunks
				.push(seats.iter().map(|s| s.map(|(a, upper, _)| (a, upper))).collect());
		}
		for (agent, _, weight) in seats.iter().flatten() {
			set.weights.insert(*agent, *weight);
		}
		set
	}
}

impl Seats for Set {
	type Agent = u32;

	fn chunk_sums(&mut self) -> Vec<u128> {
		self.chunks
			.iter()
			.map(|seats| seats.iter().flatten().map(|(_, w)| w).sum())
			.collect()
	}

	fn chunk(&mut self, chunk: usize) -> Vec<Option<(u32, u128)>> {
		self.chunks[chunk].clone()
	}

	fn read(&mut self, agent: &u32) -> Read {
		self.read.push(*agent);
		Read {
			weight: self.weights.get(agent).copied().unwrap_or(0),
			store: self.store.get(agent).copied(),
		}
	}
}

fn seed(i: u32) -> [u8; 32] {
	sp_io::hashing::blake2_256(&i.encode())
}

/// The chi-square statistic of `observed` counts against `expected` probabilities, and the
/// value it exceeds with probability 1/1000 for its degrees of freedom (Wilson–Hilferty).
fn chi_square(observed: &[u64], expected: &[f64]) -> (f64, f64) {
	let total: u64 = observed.iter().sum();
	let statistic = observed
		.iter()
		.zip(expected)
		.map(|(o, p)| {
			let e = p * total as f64;
			(*o as f64 - e).powi(2) / e
		})
		.sum();
	let k = (observed.len() - 1) as f64;
	let z = 3.09;
	let critical = k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3);
	(statistic, critical)
}

/// How often each agent of `agents` is picked first over `draws` seeds.
fn first_picks(set: &mut Set, agents: &[u32], excluded: &[u32], draws: u32) -> Vec<u64> {
	let mut counts = vec![0u64; agents.len()];
	for i in 0..draws {
		let drawn = draw(set, 1, &seed(i), |a| excluded.contains(a), u32::MAX);
		assert_eq!(drawn.stopped, None);
		let first = drawn.picked[0];
		counts[agents.iter().position(|a| *a == first).expect("a weighted agent")] += 1;
	}
	counts
}

#[test]
fn the_first_pick_follows_the_agents_weights_whatever_the_upper_weights() {
	// Upper weights far above the weights (a silent agent, partly locked ones, a slashed one),
	// an empty seat, an excluded agent: the picks follow the weights alone.
	let mut set = Set::new(
		4,
		&[
			Some((1, 100, 100)),
			Some((2, 1_000, 0)),
			Some((3, 500, 200)),
			Some((4, 300, 300)),
			Some((5, 1_000, 50)),
			None,
			Some((6, 50, 50)),
			Some((7, 400, 400)),
		],
	);
	let agents = [1, 3, 4, 5, 6];
	let counts = first_picks(&mut set, &agents, &[7], 20_000);
	let expected: Vec<f64> = [100.0, 200.0, 300.0, 50.0, 50.0].iter().map(|w| w / 700.0).collect();
	let (statistic, critical) = chi_square(&counts, &expected);
	assert!(statistic < critical, "{counts:?}: chi-square {statistic} ≥ {critical}");
	assert!(!set.read.contains(&7), "an excluded agent is never read");
}

#[test]
fn picks_without_replacement_follow_the_law_of_a_full_scan() {
	// The law of ordered pairs: P(i, then j) = t_i / T × t_j / (T − t_i).
	let weights = [(1u32, 400u128), (2, 300), (3, 200), (4, 100)];
	let mut set = Set::new(
		2,
		&[
			Some((1, 400, 400)),
			Some((9, 2_000, 0)),
			Some((2, 900, 300)),
			Some((3, 200, 200)),
			Some((4, 700, 100)),
		],
	);
	let mut pairs = BTreeMap::new();
	for i in 0..20_000 {
		let drawn = draw(&mut set, 2, &seed(i), |_| false, u32::MAX);
		assert_eq!(drawn.stopped, None);
		assert_ne!(drawn.picked[0], drawn.picked[1]);
		*pairs.entry((drawn.picked[0], drawn.picked[1])).or_insert(0u64) += 1;
	}
	let total: f64 = weights.iter().map(|(_, w)| *w as f64).sum();
	let mut observed = Vec::new();
	let mut expected = Vec::new();
	for (i, ti) in weights {
		for (j, tj) in weights {
			if i != j {
				observed.push(pairs.get(&(i, j)).copied().unwrap_or(0));
				expected.push(ti as f64 / total * tj as f64 / (total - ti as f64));
			}
		}
	}
	let (statistic, critical) = chi_square(&observed, &expected);
	assert!(statistic < critical, "{pairs:?}: chi-square {statistic} ≥ {critical}");
}

#[test]
fn a_seat_next_to_a_rejected_agent_gains_nothing() {
	// The attacker (2) sits right after an agent whose upper weight is huge and whose weight is
	// 0 (silent, or all its stake locked): taking the next seat after a rejection would hand it
	// nearly every pick. It gets its weight's share.
	let mut set = Set::new(
		8,
		&[
			Some((1, 100, 100)),
			Some((9, 1_000_000, 0)),
			Some((2, 100, 100)),
			Some((3, 100, 100)),
			Some((4, 100, 100)),
		],
	);
	let counts = first_picks(&mut set, &[1, 2, 3, 4], &[], 8_000);
	let (statistic, critical) = chi_square(&counts, &[0.25; 4]);
	assert!(statistic < critical, "{counts:?}: chi-square {statistic} ≥ {critical}");
}

/// 3 agents of weight 100 among 120 silent ones of upper weight 10^6, in chunks of 8.
fn mostly_silent() -> Set {
	let mut seats: Vec<_> = (100..220).map(|a| Some((a, 1_000_000, 0))).collect();
	seats.insert(17, Some((1, 100, 100)));
	seats.insert(60, Some((2, 100, 100)));
	seats.insert(111, Some((3, 100, 100)));
	let mut set = Set::new(8, &seats);
	set.store = (100..220).map(|a| (a, 0)).collect();
	set
}

#[test]
fn silent_stake_never_makes_a_draw_report_too_few_agents() {
	let mut scans = 0;
	for i in 0..200 {
		let mut set = mostly_silent();
		let drawn = draw(&mut set, 3, &seed(i), |_| false, u32::MAX);
		assert_eq!(drawn.stopped, None);
		let mut picked = drawn.picked.clone();
		picked.sort();
		assert_eq!(picked, vec![1, 2, 3]);
		// The attempts, then at most every other seat once.
		assert!(drawn.record_reads - drawn.scan_reads <= attempt_reads(3));
		// No record is read twice in one draw.
		let mut read = set.read.clone();
		read.sort();
		read.dedup();
		assert_eq!(read.len(), set.read.len());
		// Each silent agent read is reported, for its seat to be emptied of its weight.
		let silent_read = set.read.iter().filter(|a| **a >= 100).count();
		assert_eq!(drawn.corrections.len(), silent_read);
		assert!(drawn.corrections.iter().all(|(_, _, weight)| *weight == 0));
		scans += u32::from(drawn.scan_reads > 0);
	}
	assert!(scans > 0, "some draws run out of attempts and complete with the scan");
}

#[test]
fn a_scan_past_its_reads_is_deferred_never_answered_as_too_few() {
	for i in 0..50 {
		let mut set = mostly_silent();
		let drawn = draw(&mut set, 3, &seed(i), |_| false, 10);
		match drawn.stopped {
			None => assert_eq!(drawn.scan_reads, 0, "completed by its attempts"),
			Some(stop) => {
				assert_eq!(stop, Stop::Deferred);
				assert!(drawn.picked.len() < 3);
				assert_eq!(drawn.scan_reads, 0, "nothing of the scan is read");
			},
		}
	}
}

#[test]
fn too_few_is_answered_only_when_fewer_agents_have_a_weight() {
	let seats = [
		Some((1, 500, 0)),
		Some((2, 100, 100)),
		Some((3, 900, 0)),
		Some((4, 100, 100)),
		Some((5, 100, 100)),
	];
	for i in 0..100 {
		let drawn = draw(&mut Set::new(2, &seats), 3, &seed(i), |a| *a == 5, u32::MAX);
		assert_eq!(drawn.stopped, Some(Stop::NotEnough));
		let mut picked = drawn.picked;
		picked.sort();
		assert_eq!(picked, vec![2, 4]);
		let drawn = draw(&mut Set::new(2, &seats), 3, &seed(i), |_| false, u32::MAX);
		assert_eq!(drawn.stopped, None);
	}
	let empty = [None, Some((1, 0, 0))];
	assert_eq!(
		draw(&mut Set::new(2, &empty), 1, &seed(0), |_| false, 0).stopped,
		Some(Stop::NotEnough)
	);
}

#[test]
fn a_draw_from_a_large_set_reads_what_it_lands_on() {
	// 1,024 seats in 16 chunks of 64, every upper weight exact: a draw of 5 reads 5 records and
	// at most 5 chunks, whatever the set's size.
	let seats: Vec<_> = (0..1_024u32)
		.map(|a| Some((a, 100 + u128::from(a), 100 + u128::from(a))))
		.collect();
	for i in 0..100 {
		let mut set = Set::new(64, &seats);
		let drawn = draw(&mut set, 5, &seed(i), |_| false, u32::MAX);
		assert_eq!(drawn.stopped, None);
		assert_eq!(drawn.picked.len(), 5);
		assert_eq!(drawn.record_reads, 5);
		assert!(drawn.chunk_reads <= 5);
		assert_eq!(set.read, drawn.picked);
	}
}

#[test]
fn an_upper_weight_below_the_agents_weight_is_reported() {
	// The caller's invariant broken: the seat holds less than its agent's weight. The draw
	// cannot give it more than it holds; it says so.
	let mut set = Set::new(4, &[Some((1, 10, 100)), Some((2, 100, 100))]);
	let drawn = (0..20)
		.map(|i| draw(&mut set, 2, &seed(i), |_| false, u32::MAX))
		.find(|drawn| drawn.underweight > 0)
		.expect("agent 1 is read in some draw");
	assert_eq!(drawn.stopped, None);
}

#[test]
fn the_same_seed_gives_the_same_picks() {
	let mut a = mostly_silent();
	let mut b = mostly_silent();
	for i in 0..20 {
		assert_eq!(
			draw(&mut a, 3, &seed(i), |_| false, u32::MAX),
			draw(&mut b, 3, &seed(i), |_| false, u32::MAX)
		);
	}
}
