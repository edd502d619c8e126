//! How the SQL stores keep a list (users, exclusions, groups) in one text column: items joined
//! by `,`, which no user id or group name may contain. One value per list, not one row per
//! user, so a million-user feature loads and saves as one value.

use ramp_core::CoreError;

/// The column text for a list.
pub fn join<T: AsRef<str>>(items: &[T]) -> String {
    let mut joined = String::with_capacity(items.iter().map(|item| item.as_ref().len() + 1).sum());
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            joined.push(',');
        }
        joined.push_str(item.as_ref());
    }
    joined
}

/// The list a column holds, each item validated again (the text may have been edited by hand).
pub fn split<T: std::str::FromStr<Err = CoreError>>(joined: &str) -> Result<Vec<T>, CoreError> {
    if joined.is_empty() {
        return Ok(Vec::new());
    }
    joined.split(',').map(str::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramp_core::UserId;

    #[test]
    fn lists_round_trip_and_bad_items_are_refused() {
        let users: Vec<UserId> = ["1", "user-72", "a b"]
            .iter()
            .map(|id| UserId::new(*id).unwrap())
            .collect();
        assert_eq!(split::<UserId>(&join(&users)).unwrap(), users);
        assert!(split::<UserId>("").unwrap().is_empty());
        assert!(split::<UserId>("1,,2").is_err(), "an empty id is refused");
    }
}
