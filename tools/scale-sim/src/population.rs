//! The synthetic population: users ranked by activity (Zipf, each user's
//! rate capped at what one person's chat can send), a mix of JWT roles and
//! email domains, and the configuration they resolve against.

use quota_shared::model::{Email, JwtRole, UserId};
use quota_shared::rules::resolve::Subject;

/// SplitMix64: a small, fast, reproducible generator (no dependency).
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// A user's fixed traits, from their rank (the same every run).
fn trait_of(rank: u32, salt: u64) -> u64 {
    Rng::new(u64::from(rank) ^ salt.wrapping_mul(0x2545_f491_4f6c_dd1d)).next_u64()
}

/// Whether user `rank` is among the simulated `sample` of the users.
pub fn in_sample(rank: u32, sample: f64) -> bool {
    (trait_of(rank, 4) % 1_000_000) as f64 / 1_000_000.0 < sample
}

/// Email domains of the university's departments, `d{n}.uni.edu` (the
/// first ones have a group budget)...
pub const DOMAINS: u64 = 1000;
/// ...and of its labs, `lab{n}.uni.edu`, each a strict group (1 user in
/// 5,000: a team's turns, what one pool row takes).
pub const LABS: u32 = 4;

pub struct Population {
    /// Cumulative activity weights by rank.
    cumulative: Vec<f64>,
    /// The busiest user's share of all turns (after the cap).
    pub top_share: f64,
}

impl Population {
    /// `users` ranked by activity with Zipf exponent `s`, no user above
    /// `cap` of the turns `rate` a second makes.
    pub fn new(users: u32, s: f64, rate: f64, cap: f64) -> Self {
        let raw: Vec<f64> = (1..=users).map(|i| 1.0 / f64::from(i).powf(s)).collect();
        let mut weights = raw.clone();
        // The cap moves weight away from the top; twice gets it within a few percent.
        for _ in 0..3 {
            let total: f64 = weights.iter().sum();
            let most = cap / rate * total;
            weights = raw.iter().map(|w| w.min(most)).collect();
        }
        let total: f64 = weights.iter().sum();
        let mut running = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                running += w / total;
                running
            })
            .collect();
        Self { cumulative, top_share: weights[0] / total }
    }

    /// A user rank, drawn by activity.
    pub fn draw(&self, rng: &mut Rng) -> u32 {
        let u = rng.unit();
        self.cumulative.partition_point(|c| *c < u).min(self.cumulative.len() - 1) as u32
    }

    /// A user rank of the sample, drawn by activity: the sample's users
    /// make all their turns, so each user's own keys see their full rate.
    pub fn draw_sampled(&self, rng: &mut Rng, sample: f64) -> u32 {
        loop {
            let rank = self.draw(rng);
            if in_sample(rank, sample) {
                return rank;
            }
        }
    }
}

/// Who user `rank` is: 10 % faculty, 5 % contractors (a strict tier),
/// 60 % with a university email (`*.uni.edu`, a student tier; those of the
/// first departments and of the labs in a group), 20 % elsewhere, 20 % with
/// no email.
pub fn subject(rank: u32) -> Subject {
    let t = trait_of(rank, 1);
    let roles = match t % 1000 {
        0..100 => vec![JwtRole::parse("Faculty").expect("valid")],
        100..150 => vec![JwtRole::parse("Contractor").expect("valid")],
        _ => vec![],
    };
    let e = trait_of(rank, 2);
    let email = match e % 10_000 {
        0..2 => Some(format!("u{rank}@lab{}.uni.edu", (e / 10_000) % u64::from(LABS))),
        2..6000 => Some(format!("u{rank}@d{}.uni.edu", (e / 10_000) % DOMAINS)),
        6000..8000 => Some(format!("u{rank}@example.com")),
        _ => None,
    };
    Subject {
        user_id: UserId::parse(format!("u{rank}")).expect("valid"),
        roles,
        email: email.map(|e| Email::parse(&e).expect("valid")),
    }
}

/// The month so far of user `rank` at the simulation's start: up to $14 of
/// the month and $1.40 of the day (most users below their limits, some
/// near a warning), about a cent a request.
pub fn month_so_far(rank: u32) -> (f64, f64) {
    let t = trait_of(rank, 3);
    let month = (t % 1400) as f64 / 100.0;
    let today = ((t / 1400) % 140) as f64 / 100.0;
    (month.max(today), today)
}
