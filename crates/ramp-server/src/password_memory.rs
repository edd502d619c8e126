//! argon2 needs about 19 MiB of working memory per password check. Allocated afresh for each
//! check, that memory stays with the allocator's per-thread arenas (a flood of logins left
//! hundreds of MiB behind); here each concurrent check borrows blocks allocated once and
//! returns them, so the memory logins use is the number of concurrent checks times 19 MiB.

use std::sync::Mutex;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq;

/// Working memory for password checks, kept for reuse.
#[derive(Debug)]
pub struct CheckMemory {
    free: Mutex<Vec<Vec<Block>>>,
    most_kept: usize,
}

impl CheckMemory {
    /// Keeps the working memory of at most `most_kept` checks (the checks that run at once).
    pub fn new(most_kept: usize) -> Self {
        Self {
            free: Mutex::default(),
            most_kept,
        }
    }

    /// Whether `password` matches a stored PHC hash; an unreadable hash matches nothing.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else {
            return false;
        };
        let (Ok(params), Ok(algorithm)) =
            (Params::try_from(&hash), Algorithm::try_from(hash.algorithm))
        else {
            return false;
        };
        let version = match hash.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let mut blocks = self.take(params.block_count());
        let mut computed = vec![0u8; expected.len()];
        let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut computed,
            &mut blocks,
        );
        self.give_back(blocks);
        hashed.is_ok() && bool::from(computed.ct_eq(expected.as_bytes()))
    }

    fn take(&self, count: usize) -> Vec<Block> {
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match free.iter().position(|blocks| blocks.len() == count) {
            Some(index) => free.swap_remove(index),
            None => vec![Block::default(); count],
        }
    }

    fn give_back(&self, blocks: Vec<Block>) {
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if free.len() < self.most_kept {
            free.push(blocks);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::hash_password;

    #[test]
    fn checks_agree_with_the_argon2_crate_and_reuse_their_memory() {
        let memory = CheckMemory::new(1);
        let hash = hash_password("correct horse");
        assert!(memory.verify("correct horse", &hash));
        assert!(!memory.verify("correct horsE", &hash));
        assert!(!memory.verify("correct horse", "not a hash"));
        assert_eq!(
            memory.free.lock().unwrap().len(),
            1,
            "one set of blocks kept"
        );
        assert!(memory.verify("correct horse", &hash));
        assert_eq!(memory.free.lock().unwrap().len(), 1, "and reused");
    }
}
