//! Merkle commitments over the items of a batch: one root for N output hashes, a proof of one
//! item in `⌈log₂ N⌉` hashes.
//!
//! A batch's executor commits to (then reveals) the root of the tree whose leaf `i` is item `i`'s
//! output hash; a challenger disputes one item with that leaf and its [`MerkleTree::proof`], which
//! the chain checks with [`verify`] in `O(log N)` hashes, whatever N; two executors whose roots
//! differ find their first differing item with [`first_difference`], one level at a time.
//!
//! The tree:
//! - leaf `i` = `blake2_256(0x00 ‖ i ‖ item_hash)` (`i` as a little-endian `u32`): a leaf is bound
//!   to its index, so a proof of one index never passes for another, whatever the tree's shape;
//! - node = `blake2_256(0x01 ‖ left ‖ right)`: the tags keep a node from passing for a leaf (the
//!   second-preimage attack on untagged trees);
//! - a level of odd width promotes its last node to the next level unchanged (no duplication, so
//!   no two different lists of items share a root, the flaw of trees that duplicate it);
//! - the root = `blake2_256(0x02 ‖ N ‖ top)`, `top` the tree's last node (item 0's leaf when N = 1):
//!   a root commits to the number of items too, so a tree of N' items never passes for one of N
//!   (the path of item 0 has the same shape in trees of 12 and 13 items); a tree of no items has
//!   no root.
//!
//! [`verify`] takes the number of items, which the chain records with the batch.

use alloc::vec::Vec;
use codec::Encode;
use primitive_types::H256;

const LEAF_TAG: u8 = 0;
const NODE_TAG: u8 = 1;
const ROOT_TAG: u8 = 2;

/// The leaf of item `index` whose output hash is `item`.
pub fn leaf_hash(index: u32, item: &H256) -> H256 {
	H256(sp_crypto_hashing::blake2_256(&(LEAF_TAG, index, item).encode()))
}

/// The parent of two nodes.
pub fn node_hash(left: &H256, right: &H256) -> H256 {
	H256(sp_crypto_hashing::blake2_256(&(NODE_TAG, left, right).encode()))
}

/// The root of a tree of `len` items whose last node is `top`.
pub fn root_hash(len: u32, top: &H256) -> H256 {
	H256(sp_crypto_hashing::blake2_256(&(ROOT_TAG, len, top).encode()))
}

/// How many hashes a proof of an item of a tree of `len` items has at most: the levels above its
/// leaves (0 for one item, 20 for a million).
pub fn depth(len: u32) -> u32 {
	match len {
		0 | 1 => 0,
		n => u32::BITS - (n - 1).leading_zeros(),
	}
}

/// A whole tree, every level kept: what an executor builds once for its batch, to answer for any
/// item afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
	/// `levels[0]` the leaves, the last level the root alone.
	levels: Vec<Vec<H256>>,
}

impl MerkleTree {
	/// The tree of these items' output hashes, in order. `None` for no items, or more than
	/// `u32::MAX`.
	pub fn new(items: &[H256]) -> Option<Self> {
		if items.is_empty() || u32::try_from(items.len()).is_err() {
			return None;
		}
		let leaves: Vec<H256> =
			items.iter().enumerate().map(|(i, item)| leaf_hash(i as u32, item)).collect();
		let mut levels = alloc::vec![leaves];
		while let Some(level) = levels.last().filter(|level| level.len() > 1) {
			let next = level
				.chunks(2)
				.map(|pair| match pair {
					[left, right] => node_hash(left, right),
					[promoted] => *promoted,
					_ => unreachable!("chunks(2) yields one or two nodes"),
				})
				.collect();
			levels.push(next);
		}
		Some(Self { levels })
	}

	/// The number of items (at least one).
	pub fn item_count(&self) -> u32 {
		self.levels[0].len() as u32
	}

	/// The root: what the executor commits to.
	pub fn root(&self) -> H256 {
		let top = self.levels.last().and_then(|level| level.first()).copied().unwrap_or_default();
		root_hash(self.item_count(), &top)
	}

	/// The node at `position` of `level` (0: the leaves), if the tree has it.
	pub fn node(&self, level: usize, position: usize) -> Option<H256> {
		self.levels.get(level)?.get(position).copied()
	}

	/// The proof of item `index`: the sibling of each node on its path to the root, from the
	/// leaf's up, levels where the path's node is promoted having none. `None` past the last item.
	pub fn proof(&self, index: u32) -> Option<Vec<H256>> {
		let mut position = usize::try_from(index).ok()?;
		if position >= self.levels[0].len() {
			return None;
		}
		let mut proof = Vec::with_capacity(self.levels.len());
		for level in &self.levels[..self.levels.len() - 1] {
			let sibling = position ^ 1;
			if let Some(node) = level.get(sibling) {
				proof.push(*node);
			}
			position /= 2;
		}
		Some(proof)
	}
}

/// The root of these items' output hashes, in order (`None` for no items).
pub fn root_of(items: &[H256]) -> Option<H256> {
	MerkleTree::new(items).map(|tree| tree.root())
}

/// Whether `proof` shows that item `index` of a tree of `len` items, rooted at `root`, has the
/// output hash `item`. The proof must have exactly the hashes the path needs: one more or one
/// fewer is refused, as is an index past the last item.
pub fn verify(root: &H256, len: u32, index: u32, item: &H256, proof: &[H256]) -> bool {
	if index >= len {
		return false;
	}
	let mut node = leaf_hash(index, item);
	let (mut position, mut width) = (index, len);
	let mut siblings = proof.iter();
	while width > 1 {
		if position % 2 == 1 {
			let Some(left) = siblings.next() else { return false };
			node = node_hash(left, &node);
		} else if position + 1 < width {
			let Some(right) = siblings.next() else { return false };
			node = node_hash(&node, right);
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none() && root_hash(len, &node) == *root
}

/// The first item at which two trees of the same number of items differ, found as the chain's
/// bisection finds it: from the root down, into the left child whenever the left children differ,
/// else the right. `None` when the roots are the same, or the trees' sizes differ.
pub fn first_difference(a: &MerkleTree, b: &MerkleTree) -> Option<u32> {
	if a.item_count() != b.item_count() || a.root() == b.root() {
		return None;
	}
	let mut position = 0usize;
	for level in (0..a.levels.len() - 1).rev() {
		let left = 2 * position;
		position = if a.node(level, left) != b.node(level, left) { left } else { left + 1 };
	}
	Some(position as u32)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::hash_of;

	fn items(n: u32) -> Vec<H256> {
		(0..n).map(|i| hash_of(&i.to_le_bytes())).collect()
	}

	#[test]
	fn every_item_of_every_size_proves_against_its_root() {
		for n in 1..=33 {
			let items = items(n);
			let tree = MerkleTree::new(&items).unwrap();
			assert_eq!(tree.item_count(), n);
			for (i, item) in items.iter().enumerate() {
				let proof = tree.proof(i as u32).unwrap();
				assert!(proof.len() as u32 <= depth(n), "n = {n}, i = {i}");
				assert!(verify(&tree.root(), n, i as u32, item, &proof), "n = {n}, i = {i}");
			}
			assert_eq!(tree.proof(n), None);
		}
	}

	#[test]
	fn a_proof_of_one_item_does_not_pass_for_another_output_index_root_or_size() {
		let items = items(13);
		let tree = MerkleTree::new(&items).unwrap();
		let root = tree.root();
		for i in 0..13u32 {
			let proof = tree.proof(i).unwrap();
			let item = &items[i as usize];
			// Another output at the same index.
			assert!(!verify(&root, 13, i, &hash_of(b"a lie"), &proof));
			// The same output claimed at any other index, even one whose path has the same shape.
			for j in (0..13u32).filter(|j| *j != i) {
				assert!(!verify(&root, 13, j, item, &proof), "{i} as {j}");
			}
			// Another root; another size; an index past the end.
			assert!(!verify(&hash_of(b"another root"), 13, i, item, &proof));
			for len in [12, 14, 16, 26] {
				assert!(!verify(&root, len, i, item, &proof), "{i} in a tree of {len}");
			}
			assert!(!verify(&root, 13, 13 + i, item, &proof));
		}
	}

	#[test]
	fn a_proof_with_a_hash_changed_added_or_missing_is_refused() {
		let items = items(10);
		let tree = MerkleTree::new(&items).unwrap();
		let (root, item) = (tree.root(), items[6]);
		let proof = tree.proof(6).unwrap();
		assert!(verify(&root, 10, 6, &item, &proof));
		for k in 0..proof.len() {
			let mut changed = proof.clone();
			changed[k] = hash_of(b"forged");
			assert!(!verify(&root, 10, 6, &item, &changed));
		}
		let mut longer = proof.clone();
		longer.push(H256::zero());
		assert!(!verify(&root, 10, 6, &item, &longer));
		assert!(!verify(&root, 10, 6, &item, &proof[..proof.len() - 1]));
		assert!(!verify(&root, 10, 6, &item, &[]));
	}

	#[test]
	fn a_node_does_not_pass_for_a_leaf() {
		// The second-preimage attack: claim an inner node is an item of a shorter tree.
		let items = items(4);
		let tree = MerkleTree::new(&items).unwrap();
		let (left, right) = (tree.node(1, 0).unwrap(), tree.node(1, 1).unwrap());
		assert_eq!(node_hash(&left, &right), tree.node(2, 0).unwrap());
		assert!(!verify(&tree.root(), 2, 0, &left, &[right]));
		assert!(!verify(&root_hash(2, &tree.node(2, 0).unwrap()), 2, 0, &left, &[right]));
		assert_ne!(root_of(&[left, right]), Some(tree.root()));
	}

	#[test]
	fn different_items_give_different_roots() {
		let items = items(7);
		let root = root_of(&items).unwrap();
		// Every change of one item, of the order, or of the count changes the root.
		for i in 0..7 {
			let mut changed = items.clone();
			changed[i] = hash_of(b"changed");
			assert_ne!(root_of(&changed), Some(root));
		}
		let mut swapped = items.clone();
		swapped.swap(2, 3);
		assert_ne!(root_of(&swapped), Some(root));
		// The promoted last node is not duplicated: appending a copy of the last item changes
		// the root (in a duplicating tree, [a, b, c] and [a, b, c, c] share one).
		let mut appended = items.clone();
		appended.push(items[6]);
		assert_ne!(root_of(&appended), Some(root));
		assert_eq!(root_of(&[]), None);
		assert_eq!(root_of(&items[..1]), Some(root_hash(1, &leaf_hash(0, &items[0]))));
	}

	#[test]
	fn bisection_finds_the_first_differing_item() {
		for n in [1u32, 2, 3, 5, 8, 13, 100, 1000] {
			let honest = items(n);
			let honest_tree = MerkleTree::new(&honest).unwrap();
			assert_eq!(first_difference(&honest_tree, &honest_tree), None);
			for lie in [0, n / 3, n / 2, n - 1] {
				let mut lying = honest.clone();
				lying[lie as usize] = hash_of(b"a lie");
				// A second lie further on does not move the first.
				if lie + 7 < n {
					lying[(lie + 7) as usize] = hash_of(b"another lie");
				}
				let lying_tree = MerkleTree::new(&lying).unwrap();
				assert_eq!(first_difference(&honest_tree, &lying_tree), Some(lie), "n = {n}");
				assert_eq!(first_difference(&lying_tree, &honest_tree), Some(lie), "n = {n}");
			}
		}
		let (a, b) = (MerkleTree::new(&items(4)).unwrap(), MerkleTree::new(&items(5)).unwrap());
		assert_eq!(first_difference(&a, &b), None);
	}

	#[test]
	fn depth_is_the_levels_above_the_leaves() {
		assert_eq!([0, 1, 2, 3, 4, 5, 8, 9].map(depth), [0, 0, 1, 2, 2, 3, 3, 4]);
		assert_eq!(depth(1_000_000), 20);
		assert_eq!(depth(u32::MAX), 32);
		for n in [1u32, 2, 3, 7, 64, 65, 1000] {
			let tree = MerkleTree::new(&items(n)).unwrap();
			let longest = (0..n).map(|i| tree.proof(i).unwrap().len() as u32).max().unwrap();
			assert_eq!(longest, depth(n), "n = {n}");
		}
	}
}
