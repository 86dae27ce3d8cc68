//! The prepared statements of one connection, least recently used first out.
use std::sync::Arc;

use crate::protocol::resultset::Column;

/// Prepared statements keyed by their SQL text.
#[derive(Debug, Default)]
pub(crate) struct StmtCache {
    /// Hashed with FxHash: the keys are the caller's own statements, and SipHash over the
    /// text was a visible share of a point select's cost.
    entries: rustc_hash::FxHashMap<Arc<str>, CachedStmt>,
    tick: u64,
}

#[derive(Debug)]
pub(crate) struct CachedStmt {
    pub(crate) id: u32,
    pub(crate) params: usize,
    /// Its result's columns as last received (a MariaDB server that caches metadata leaves
    /// them out of executions while they do not change).
    pub(crate) columns: Arc<[Column]>,
    pub(crate) last_used: u64,
}

impl StmtCache {
    /// The statement, marked as used now.
    pub(crate) fn get(&mut self, sql: &str) -> Option<&CachedStmt> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(sql).map(|e| {
            e.last_used = tick;
            &*e
        })
    }

    /// The statement, without marking it used.
    pub(crate) fn peek(&self, sql: &str) -> Option<&CachedStmt> {
        self.entries.get(sql)
    }

    pub(crate) fn contains(&self, sql: &str) -> bool {
        self.entries.contains_key(sql)
    }

    /// Remembers new column definitions of a statement's first result.
    pub(crate) fn update_columns(&mut self, sql: &str, columns: &Arc<[Column]>) {
        if let Some(e) = self.entries.get_mut(sql) {
            if !Arc::ptr_eq(&e.columns, columns) {
                e.columns = columns.clone();
            }
        }
    }

    /// Inserts a statement; returns the ids of statements evicted to stay within `capacity`.
    pub(crate) fn insert(&mut self, sql: Arc<str>, stmt: CachedStmt, capacity: usize) -> Vec<u32> {
        self.tick += 1;
        let mut evicted = Vec::new();
        if let Some(old) = self.entries.insert(
            sql,
            CachedStmt {
                last_used: self.tick,
                ..stmt
            },
        ) {
            evicted.push(old.id);
        }
        while self.entries.len() > capacity.max(1) {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                evicted.push(e.id);
            }
        }
        evicted
    }

    pub(crate) fn remove(&mut self, sql: &str) -> Option<u32> {
        self.entries.remove(sql).map(|e| e.id)
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(id: u32) -> CachedStmt {
        CachedStmt {
            id,
            params: 0,
            columns: Arc::from(Vec::new()),
            last_used: 0,
        }
    }

    #[test]
    fn should_evict_the_least_recently_used_statement() {
        let mut cache = StmtCache::default();
        assert!(cache.insert("a".into(), stmt(1), 2).is_empty());
        assert!(cache.insert("b".into(), stmt(2), 2).is_empty());
        cache.get("a");
        assert_eq!(cache.insert("c".into(), stmt(3), 2), vec![2]);
        assert!(cache.contains("a") && cache.contains("c") && !cache.contains("b"));
        // Preparing the same text again replaces (and closes) the old statement.
        assert_eq!(cache.insert("a".into(), stmt(4), 2), vec![1]);
    }
}
