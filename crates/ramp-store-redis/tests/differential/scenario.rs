//! The differential scenario, written once for each side: the same features set up by the gem
//! (Ruby) and by Ramp (Rust), plus the number spellings both must read and print alike.

use ramp_core::{Attribution, Change, FeatureName, GroupName, Percentage, UserId};
use ramp_store::Store;
use ramp_store_redis::RedisStore;
use serde_json::json;

/// The features the gem's script leaves (`deleted` is created and deleted).
pub const FEATURES: [&str; 8] = [
    "everyone", "p125", "p01", "p20", "listed", "grouped", "mixed", "gone_off",
];

/// The gem's side: activate, percentages 12.5, 0.1 and 20, users including `user-72`, a code
/// group, data containing `|`, deactivate and delete.
pub const RUBY_WRITES: &str = r#"
r = $rollout
r.activate(:everyone)
r.activate_percentage(:p125, 12.5)
r.activate_percentage(:p01, 0.1)
r.activate_percentage(:p20, 20)
r.activate_users(:listed, ["user-72", "42", "9999"])
r.activate_group(:grouped, :sevens)
r.activate_percentage(:grouped, 5)
r.activate_percentage(:mixed, 20)
r.activate_user(:mixed, "user-72")
r.activate_user(:mixed, 4321)
r.activate_group(:mixed, :sevens)
r.set_feature_data(:mixed, { "description" => "a|b", "owner" => "ana" })
r.activate(:gone_off)
r.activate_user(:gone_off, "3")
r.deactivate(:gone_off)
r.activate(:deleted)
r.delete(:deleted)
"#;

fn users(ids: &[&str]) -> Change {
    Change::AddUsers {
        users: ids.iter().map(|id| UserId::new(*id).unwrap()).collect(),
    }
}

fn percentage(value: f64) -> Change {
    Change::SetPercentage {
        percentage: Percentage::new(value).unwrap(),
    }
}

fn sevens() -> Change {
    Change::AddGroups {
        groups: vec![GroupName::new("sevens").unwrap()],
    }
}

/// Ramp's side: the same features under `r-` names; returns those names.
pub async fn ramp_writes(store: &RedisStore) -> Vec<String> {
    let data = json!({"description": "a|b", "owner": "ana"});
    let steps: Vec<(&str, Vec<Change>)> = vec![
        ("r-everyone", vec![Change::Activate]),
        ("r-p125", vec![percentage(12.5)]),
        ("r-p01", vec![percentage(0.1)]),
        ("r-p20", vec![percentage(20.0)]),
        ("r-listed", vec![users(&["user-72", "42", "9999"])]),
        ("r-grouped", vec![sevens(), percentage(5.0)]),
        (
            "r-mixed",
            vec![
                percentage(20.0),
                users(&["user-72"]),
                users(&["4321"]),
                sevens(),
                Change::SetData {
                    data: data.as_object().unwrap().clone(),
                },
            ],
        ),
        (
            "r-gone-off",
            vec![Change::Activate, users(&["3"]), Change::Deactivate],
        ),
        ("r-deleted", vec![Change::Activate]),
    ];
    let ana = Attribution::new("ana");
    for (name, changes) in &steps {
        let name = FeatureName::new(*name).unwrap();
        for change in changes {
            store.apply(&name, change, None, &ana).await.unwrap();
        }
    }
    store
        .delete(&FeatureName::new("r-deleted").unwrap(), None, &ana)
        .await
        .unwrap();
    steps
        .iter()
        .map(|(name, _)| name.to_string())
        .filter(|name| name != "r-deleted")
        .collect()
}

/// Texts for `String#to_f` (hand-picked and generated) and floats for `Float#to_s`.
pub fn number_cases() -> (Vec<String>, Vec<f64>) {
    let mut texts: Vec<String> = [
        "12abc",
        "1_0",
        "1__0",
        "_1",
        ".5",
        "5.",
        "1e1",
        "1e",
        "1e+",
        "1.e5",
        "1.5e1_0",
        "0x1A",
        "1e400",
        "-1e400",
        "-0",
        "--5",
        " 20",
        "\t20",
        "1_e5",
        "1e_5",
        "12_.5",
        "+.5",
        "",
        "100",
        "100.0",
        "0.1",
        "12.5",
        "99.99999999999999999",
        "1e-400",
    ]
    .iter()
    .map(|text| text.to_string())
    .collect();
    let alphabet: Vec<char> = "0123456789._eE+- x1".chars().collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64*: reproducible cases without a dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for _ in 0..2_000 {
        let length = (next() % 9) as usize;
        texts.push(
            (0..length)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect(),
        );
    }
    let mut floats = vec![
        0.0,
        100.0,
        0.1,
        12.5,
        20.0,
        1e-5,
        0.0001,
        99.999_999_999_999_99,
    ];
    for _ in 0..2_000 {
        floats.push(f64::from((next() % 100_001) as u32) / 1000.0);
        floats.push((next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0);
        floats.push((next() >> 11) as f64 / (1u64 << 53) as f64 * 1e-4);
    }
    (texts, floats)
}
