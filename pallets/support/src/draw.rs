//! A stake-weighted draw without replacement whose cost does not grow with the candidate set
//! (`docs/draw.md`), apart from where its seats are stored.
//!
//! The seats of a set are grouped in chunks; each seat holds an agent and an **upper weight**
//! (bonded stake, say), never below the agent's weight in a draw (its free stake if it is
//! selectable for the draw, else 0), which only reading the agent's record tells. A draw hashes
//! its seed to a point below the sum of the upper weights, finds the seat and the point's offset
//! inside it, reads that agent alone, and accepts it if the offset is below its weight in the
//! draw. A seat landed on with an offset at or above that weight is lowered to it, in memory, for
//! the rest of the draw.
//!
//! **The law is that of a scan of every record.** At each attempt a seat's weight in memory `w`
//! is at least its weight in the draw `t`; a point lands in the seat with probability `w / W` and
//! is accepted with probability `t / w`, so, given that an attempt accepts, seat `j` is picked
//! with probability `t_j / Σ t`: that of a draw that reads every record and picks by weight,
//! whatever the upper weights, the seats' order or the rejections. Every attempt is a fresh
//! hash: a rejected seat's chance never passes to its neighbour.
//!
//! **Bounded.** After `max_reads` record reads without completing, the draw reads the records of
//! the seats still weighted (at most `max_scan_reads` of them, else it stops as
//! [`Stop::Deferred`], to be drawn again at a later block), and picks the rest by a scan from
//! its seed: each pick still has the law above, so running out of attempts changes the cost,
//! never the outcome. [`Stop::NotEnough`] is answered only when fewer than `n` agents have a
//! weight.

use alloc::{collections::BTreeSet, vec, vec::Vec};
use codec::Encode;

/// What a draw reads: the sums of a set's chunks, a chunk's seats, an agent's record.
pub trait Seats {
	/// Who sits in a seat.
	type Agent: Clone + PartialEq;

	/// The sum of the upper weights of each chunk (read once a draw).
	fn chunk_sums(&mut self) -> Vec<u128>;

	/// The seats of chunk `chunk`, `None` where a seat is empty (read the first time a draw
	/// lands in the chunk).
	fn chunk(&mut self, chunk: usize) -> Vec<Option<(Self::Agent, u128)>>;

	/// `agent`'s record read: its weight in this draw, and the upper weight its seats should
	/// hold from now on where that differs from what they hold (a slashed or silent agent), for
	/// the caller to store.
	fn read(&mut self, agent: &Self::Agent) -> Read;
}

/// What reading an agent's record tells a draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read {
	/// The agent's weight in this draw: 0 if it cannot be drawn for it.
	pub weight: u128,
	/// The upper weight its seat should hold from now on, if it should change.
	pub store: Option<u128>,
}

/// Why a draw stopped before picking `n` agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
	/// Fewer than `n` agents of the set can be drawn: every seat's weight in the draw is known
	/// and those left are 0.
	NotEnough,
	/// The scan that completes the draw would read more records than it may: the draw is to be
	/// made again, from another seed, when reads are available.
	Deferred,
}

/// What a draw did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drawn<A> {
	/// The agents picked, in order.
	pub picked: Vec<A>,
	/// Why it stopped short of `n`, if it did.
	pub stopped: Option<Stop>,
	/// Seats whose upper weight is to change: (chunk, seat, upper weight).
	pub corrections: Vec<(usize, usize, u128)>,
	/// Chunks read.
	pub chunk_reads: u32,
	/// Agents' records read, the scan's included.
	pub record_reads: u32,
	/// Of those, the scan's.
	pub scan_reads: u32,
	/// Seats whose upper weight was below the agent's weight in the draw (a broken invariant of
	/// the caller's; the draw then under-weights them, and the caller should report it).
	pub underweight: u32,
}

/// The record reads of rejection sampling after which a draw of `n` completes with a scan:
/// `3n + 16`.
pub fn attempt_reads(n: u32) -> u32 {
	n.saturating_mul(3).saturating_add(16)
}

/// A pseudo-random number below `bound` (> 0) from `seed`, a domain and a counter.
fn point(domain: &[u8], seed: &[u8; 32], counter: u32, bound: u128) -> u128 {
	let hash = sp_io::hashing::blake2_256(&(domain, seed, counter).encode());
	let mut bytes = [0u8; 16];
	bytes.copy_from_slice(&hash[..16]);
	u128::from_le_bytes(bytes) % bound.max(1)
}

/// A draw in progress: the upper weights in memory, and what it has read.
struct Draw<'a, S: Seats> {
	seats: &'a mut S,
	sums: Vec<u128>,
	chunks: Vec<Option<Vec<Option<(S::Agent, u128)>>>>,
	/// Seats whose weight in memory is their weight in the draw.
	exact: BTreeSet<(usize, usize)>,
	drawn: Drawn<S::Agent>,
}

impl<S: Seats> Draw<'_, S> {
	fn load(&mut self, chunk: usize) {
		if self.chunks[chunk].is_none() {
			self.drawn.chunk_reads += 1;
			self.chunks[chunk] = Some(self.seats.chunk(chunk));
		}
	}

	fn weight(&self, chunk: usize, seat: usize) -> u128 {
		self.chunks[chunk]
			.as_ref()
			.and_then(|seats| seats.get(seat))
			.and_then(|s| s.as_ref())
			.map_or(0, |(_, weight)| *weight)
	}

	fn set(&mut self, chunk: usize, seat: usize, weight: u128) {
		let Some(Some((_, held))) = self.chunks[chunk].as_mut().and_then(|s| s.get_mut(seat))
		else {
			return;
		};
		self.sums[chunk] = self.sums[chunk].saturating_sub(*held).saturating_add(weight);
		*held = weight;
		self.exact.insert((chunk, seat));
	}

	/// The seat holding `point` (below the sum of the weights) and the point's offset in it.
	fn locate(&mut self, mut point: u128) -> Option<(usize, usize, u128)> {
		let chunk = self.sums.iter().position(|sum| {
			let inside = point < *sum;
			if !inside {
				point -= *sum;
			}
			inside
		})?;
		self.load(chunk);
		let seats = self.chunks[chunk].as_ref()?;
		let seat = seats.iter().position(|seat| {
			let weight = seat.as_ref().map_or(0, |(_, weight)| *weight);
			let inside = point < weight;
			if !inside {
				point -= weight;
			}
			inside
		})?;
		Some((chunk, seat, point))
	}

	/// Reads the agent of a seat: its weight in the draw, the upper weight reported if it is to
	/// change, the weight in memory lowered to the draw's.
	fn read(&mut self, chunk: usize, seat: usize, agent: &S::Agent) -> u128 {
		let held = self.weight(chunk, seat);
		let read = self.seats.read(agent);
		self.drawn.record_reads += 1;
		if let Some(store) = read.store {
			self.drawn.corrections.push((chunk, seat, store));
		}
		if read.weight > held {
			self.drawn.underweight += 1;
		}
		read.weight.min(held)
	}

	fn agent(&self, chunk: usize, seat: usize) -> Option<S::Agent> {
		self.chunks[chunk].as_ref()?.get(seat)?.as_ref().map(|(agent, _)| agent.clone())
	}
}

/// Draws `n` agents from the seats, weighted by their weight in the draw, without replacement,
/// from `seed`; `excluded` agents are never picked and never read.
pub fn draw<S: Seats>(
	seats: &mut S,
	n: u32,
	seed: &[u8; 32],
	excluded: impl Fn(&S::Agent) -> bool,
	max_scan_reads: u32,
) -> Drawn<S::Agent> {
	let sums = seats.chunk_sums();
	let chunks = vec![None; sums.len()];
	let mut draw = Draw {
		seats,
		sums,
		chunks,
		exact: BTreeSet::new(),
		drawn: Drawn {
			picked: Vec::new(),
			stopped: None,
			corrections: Vec::new(),
			chunk_reads: 0,
			record_reads: 0,
			scan_reads: 0,
			underweight: 0,
		},
	};
	let max_reads = attempt_reads(n);
	let mut counter = 0u32;
	while (draw.drawn.picked.len() as u32) < n {
		let total = draw.sums.iter().fold(0u128, |sum, s| sum.saturating_add(*s));
		if total == 0 {
			draw.drawn.stopped = Some(Stop::NotEnough);
			return draw.drawn;
		}
		if draw.drawn.record_reads >= max_reads {
			return scan(draw, n, seed, &excluded, max_scan_reads);
		}
		let at = point(b"agentchain/draw", seed, counter, total);
		counter = counter.saturating_add(1);
		let Some((chunk, seat, offset)) = draw.locate(at) else {
			// The sums disagree with the seats (the caller's broken invariant): a scan reads
			// every seat and draws from what it finds.
			return scan(draw, n, seed, &excluded, max_scan_reads);
		};
		let Some(agent) = draw.agent(chunk, seat) else { continue };
		if excluded(&agent) {
			draw.set(chunk, seat, 0);
			continue;
		}
		let weight = if draw.exact.contains(&(chunk, seat)) {
			draw.weight(chunk, seat)
		} else {
			draw.read(chunk, seat, &agent)
		};
		if offset < weight {
			draw.drawn.picked.push(agent);
			draw.set(chunk, seat, 0);
		} else {
			draw.set(chunk, seat, weight);
		}
	}
	draw.drawn
}

/// Completes a draw by reading every seat still weighted and picking the rest by a scan.
fn scan<S: Seats>(
	mut draw: Draw<'_, S>,
	n: u32,
	seed: &[u8; 32],
	excluded: &impl Fn(&S::Agent) -> bool,
	max_scan_reads: u32,
) -> Drawn<S::Agent> {
	// Every chunk, and the sums recomputed from its seats, so that a sum that disagrees with
	// its seats (the caller's broken invariant) cannot make the scan miss or invent a seat.
	for chunk in 0..draw.sums.len() {
		draw.load(chunk);
		draw.sums[chunk] = draw.chunks[chunk].as_ref().map_or(0, |seats| {
			seats
				.iter()
				.flatten()
				.fold(0u128, |sum, (_, weight)| sum.saturating_add(*weight))
		});
	}
	// The seats to read: weighted, not known exactly yet, not excluded.
	let mut unread = Vec::new();
	for chunk in 0..draw.chunks.len() {
		let len = draw.chunks[chunk].as_ref().map_or(0, |seats| seats.len());
		for seat in 0..len {
			if draw.weight(chunk, seat) == 0 || draw.exact.contains(&(chunk, seat)) {
				continue;
			}
			let Some(agent) = draw.agent(chunk, seat) else { continue };
			if excluded(&agent) {
				draw.set(chunk, seat, 0);
			} else {
				unread.push((chunk, seat, agent));
			}
		}
	}
	if unread.len() as u64 > u64::from(max_scan_reads) {
		draw.drawn.stopped = Some(Stop::Deferred);
		return draw.drawn;
	}
	for (chunk, seat, agent) in unread {
		let weight = draw.read(chunk, seat, &agent);
		draw.drawn.scan_reads += 1;
		draw.set(chunk, seat, weight);
	}
	// Every weight in memory is now the draw's: pick by a scan, as a draw that read every
	// record would.
	let mut round = 0u32;
	while (draw.drawn.picked.len() as u32) < n {
		let total = draw.sums.iter().fold(0u128, |sum, s| sum.saturating_add(*s));
		if total == 0 {
			draw.drawn.stopped = Some(Stop::NotEnough);
			break;
		}
		let at = point(b"agentchain/draw-scan", seed, round, total);
		round = round.saturating_add(1);
		let Some((chunk, seat, _)) = draw.locate(at) else {
			draw.drawn.stopped = Some(Stop::NotEnough);
			break;
		};
		if let Some(agent) = draw.agent(chunk, seat) {
			draw.drawn.picked.push(agent);
		}
		draw.set(chunk, seat, 0);
	}
	draw.drawn
}

#[cfg(test)]
mod tests;
