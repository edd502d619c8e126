//! The reason numbers in exposure bucket fields (`RESOLUTION:START:REASON`, see `keys.rs`):
//! fixed once written, unlike `ReasonKind::index`, which is dense for the SDK's counter table
//! and so moved `not_found` from 6 to 7 when `outside_percentage` came. A new reason takes the
//! next free number here; a number is never reused, or counts already stored would change
//! meaning.

use ramp_core::ReasonKind;

/// The kind each stored number means, by number.
const BY_NUMBER: [ReasonKind; ReasonKind::ALL.len()] = [
    ReasonKind::Off,
    ReasonKind::Excluded,
    ReasonKind::Everyone,
    ReasonKind::User,
    ReasonKind::Group,
    ReasonKind::Percentage,
    ReasonKind::NotFound,
    ReasonKind::OutsidePercentage,
];

/// The number a bucket field stores for the kind at `index` (a `ReasonKind::index`).
pub(crate) fn stored_number(index: usize) -> usize {
    let kind = ReasonKind::ALL[index];
    BY_NUMBER
        .iter()
        .position(|stored| *stored == kind)
        .unwrap_or(index)
}

/// The `ReasonKind::index` of a stored number, or `None` for a number no kind has.
pub(crate) fn index_of(number: usize) -> Option<usize> {
    BY_NUMBER.get(number).map(|kind| kind.index())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_already_stored_keep_their_meaning() {
        let before: Vec<usize> = ["off", "excluded", "everyone", "user", "group", "percentage"]
            .into_iter()
            .map(|name| stored_number(ReasonKind::parse(name).unwrap().index()))
            .collect();
        assert_eq!(before, [0, 1, 2, 3, 4, 5]);
        assert_eq!(stored_number(ReasonKind::NotFound.index()), 6);
        assert_eq!(stored_number(ReasonKind::OutsidePercentage.index()), 7);
        for kind in ReasonKind::ALL {
            assert_eq!(index_of(stored_number(kind.index())), Some(kind.index()));
        }
        assert_eq!(index_of(ReasonKind::ALL.len()), None);
    }
}
