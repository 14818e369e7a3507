//! The store's random numbers: one cheap, seedable generator per object, split into streams.

use rand::RngCore;

/// Random streams, so one kind of object never shifts another's numbers.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Stream {
    Guid = 1,
    Customer = 2,
    Order = 3,
    RandomOrder = 4,
    History = 5,
    Skip = 6,
    /// Cart features of generated orders ([`super::super::spec::OrderKinds`]).
    Kinds = 7,
    /// Gift-card codes and other promotion data of an order.
    Promo = 8,
    /// Reference objects added after the first release of the seed (their GUIDs must not shift older ones).
    LateGuid = 9,
}

/// The store's generator: xoshiro256** seeded by splitmix64. Small and fast even in unoptimised builds, where
/// ChaCha-based `StdRng` made generating 100,000 orders take many seconds; the numbers only need to look random.
#[derive(Debug, Clone)]
pub(crate) struct SimRng {
    s: [u64; 4],
}

impl SimRng {
    /// A generator seeded from one number.
    pub(crate) fn from_seed(mut seed: u64) -> Self {
        let mut next = || {
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            splitmix(seed)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }
}

impl RngCore for SimRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A generator for object `n` of `stream` under `seed`.
pub(crate) fn rng(seed: u64, stream: Stream, n: u64) -> SimRng {
    SimRng::from_seed(splitmix(
        seed ^ (stream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9),
    ))
}
