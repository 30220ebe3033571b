//! The fuzzer's bytes, read as choices.
//!
//! Every reader takes what it needs from the front of the input and never fails: past the end
//! it reads zeros, and [`Source::is_empty`] tells the driver to stop. Any byte string is thus a
//! valid sequence, which is what a coverage-guided fuzzer needs (it mutates bytes, and each
//! mutation still means something).

/// A cursor over the fuzzer's bytes.
pub struct Source<'a> {
	data: &'a [u8],
	pos: usize,
}

impl<'a> Source<'a> {
	/// Reads `data` from its start.
	pub fn new(data: &'a [u8]) -> Self {
		Self { data, pos: 0 }
	}

	/// Whether every byte was read.
	pub fn is_empty(&self) -> bool {
		self.pos >= self.data.len()
	}

	/// The next byte (0 past the end).
	pub fn u8(&mut self) -> u8 {
		let byte = self.data.get(self.pos).copied().unwrap_or(0);
		self.pos = self.pos.saturating_add(1);
		byte
	}

	/// A choice among `n` (n > 0): the next byte modulo `n`.
	pub fn below(&mut self, n: usize) -> usize {
		usize::from(self.u8()) % n.max(1)
	}

	/// Whether the next byte is odd.
	pub fn bool(&mut self) -> bool {
		self.u8() & 1 == 1
	}

	/// The next `N` bytes, zero-padded past the end.
	pub fn array<const N: usize>(&mut self) -> [u8; N] {
		let mut out = [0u8; N];
		for byte in out.iter_mut() {
			*byte = self.u8();
		}
		out
	}

	/// A little-endian `u32`.
	pub fn u32(&mut self) -> u32 {
		u32::from_le_bytes(self.array())
	}

	/// A little-endian `u64`.
	pub fn u64(&mut self) -> u64 {
		u64::from_le_bytes(self.array())
	}

	/// One of `items`, cloned.
	pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
		items[self.below(items.len())].clone()
	}

	/// Up to `max` raw bytes of the input, as many as the next byte says.
	pub fn raw(&mut self, max: usize) -> Vec<u8> {
		let len = self.below(max.saturating_add(1));
		(0..len).map(|_| self.u8()).collect()
	}
}

/// A deterministic generator of fuzz inputs (splitmix64), for runs without a coverage-guided
/// engine: the bounded run in the test suite and `agentchain-fuzz run`.
pub struct Rng(u64);

impl Rng {
	/// A generator from a seed.
	pub fn new(seed: u64) -> Self {
		Self(seed)
	}

	/// The next 64 random bits.
	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	/// `len` random bytes.
	pub fn bytes(&mut self, len: usize) -> Vec<u8> {
		let mut out = Vec::with_capacity(len + 8);
		while out.len() < len {
			out.extend_from_slice(&self.next_u64().to_le_bytes());
		}
		out.truncate(len);
		out
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn reading_past_the_end_yields_zeros_and_reports_empty() {
		let mut source = Source::new(&[7, 1]);
		assert!(!source.is_empty());
		assert_eq!(source.below(5), 2);
		assert!(source.bool());
		assert!(source.is_empty());
		assert_eq!(source.u64(), 0);
		assert_eq!(source.pick(&['a', 'b']), 'a');
	}

	#[test]
	fn the_generator_is_deterministic() {
		assert_eq!(Rng::new(1).bytes(20), Rng::new(1).bytes(20));
		assert_ne!(Rng::new(1).bytes(20), Rng::new(2).bytes(20));
	}
}
