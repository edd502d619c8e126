//! The real gem as the oracle: Debian's `ruby-rollout` 2.5.0 writes, Ramp reads and answers
//! `active?` exactly as Ruby does for users 1..10,000 and for no user; then Ramp writes and the
//! gem reads the same, re-saves Ramp's payloads byte for byte, and lists Ramp's history as Ramp
//! lists the gem's. Gem 2.5.0 supports `randomize_percentage`, so both settings run.
//!
//! The gem's default layout (no prefix) runs in database 13, which these tests flush and no
//! other test uses; the namespaced runs use a random prefix in database 0 and delete only it.

mod common;

use common::ruby::Gem;
use ramp_core::{
    Attribution, Change, CodeGroups, CompiledSnapshot, Context, FeatureName, GroupName, Percentage,
    Snapshot, UserId,
};
use ramp_store::{HistoryQuery, Store};
use ramp_store_redis::RedisStore;
use serde_json::{json, Value};

#[path = "differential/scenario.rs"]
mod scenario;
use scenario::{ramp_writes, FEATURES, RUBY_WRITES};

/// The database of the unprefixed runs (flushed by them, used by nothing else).
const OWN_DATABASE: u32 = 13;

fn code_groups() -> CodeGroups {
    let mut groups = CodeGroups::new();
    groups.define("sevens", |context: &Context| {
        context
            .user_id()
            .and_then(|id| id.parse::<i64>().ok())
            .is_some_and(|id| id % 7 == 0)
    });
    groups
}

/// Ramp's answers in the Ruby script's format: the answer for no user, a space, then "1"/"0"
/// for users 1..10,000.
fn ramp_answers(compiled: &CompiledSnapshot, feature: &str) -> String {
    let groups = code_groups();
    let bit = |active: bool| if active { '1' } else { '0' };
    let mut line = String::with_capacity(10_002);
    line.push(bit(compiled.is_active(
        feature,
        &Context::anonymous(),
        &groups,
    )));
    line.push(' ');
    line.extend(
        (1..=10_000)
            .map(|id| bit(compiled.is_active(feature, &Context::user(id.to_string()), &groups))),
    );
    line
}

/// Compares every `NAME ANSWERS` line Ruby printed with Ramp's answers for the same feature.
fn assert_same_answers(ruby_output: &str, snapshot: &Snapshot, names: &[String]) {
    let compiled = CompiledSnapshot::compile(snapshot);
    let mut compared = 0;
    for line in ruby_output.lines() {
        let Some((feature, answers)) = line.split_once(' ') else {
            continue;
        };
        if !names.iter().any(|name| name == feature) {
            continue;
        }
        let ramp = ramp_answers(&compiled, feature);
        let first_difference = ramp
            .chars()
            .zip(answers.chars())
            .position(|(left, right)| left != right);
        assert_eq!(
            first_difference, None,
            "{feature}: Ramp and the gem differ at position {first_difference:?}"
        );
        assert_eq!(ramp.len(), answers.len(), "{feature}");
        compared += 1;
    }
    assert_eq!(
        compared,
        names.len(),
        "every feature was compared:\n{ruby_output:.400}"
    );
}

async fn both_directions(store: &RedisStore, gem: &Gem) {
    // The gem writes; Ramp reads.
    let names: Vec<String> = FEATURES.iter().map(|name| name.to_string()).collect();
    let script = format!("{RUBY_WRITES}\nputs \"registry #{{$rollout.features.join(',')}}\"\nSTDIN.read.split.each {{ |f| puts \"#{{f}} #{{answers(f)}}\" }}");
    let output = gem.run(&script, &names.join("\n")).await;
    let snapshot = store.snapshot().await.unwrap();
    assert_same_answers(&output, &snapshot, &names);
    let registry = output
        .lines()
        .find_map(|line| line.strip_prefix("registry "))
        .unwrap();
    let mut listed: Vec<&str> = registry.split(',').collect();
    listed.sort_unstable();
    let ramp_names: Vec<&str> = snapshot
        .features
        .iter()
        .map(|feature| feature.name.as_str())
        .collect();
    assert_eq!(
        listed, ramp_names,
        "the same features, `deleted` in neither"
    );
    let mixed = snapshot
        .features
        .iter()
        .find(|feature| feature.name.as_str() == "mixed")
        .unwrap();
    assert_eq!(mixed.description(), Some("a|b"));
    assert!(snapshot
        .features
        .iter()
        .all(|feature| feature.damaged.is_none()));

    // Ramp writes; the gem reads, and re-saves each payload as it would.
    let written = ramp_writes(store).await;
    let before_resave = store.snapshot().await.unwrap();
    let script = r##"
        STDIN.read.split.each do |f|
          puts "#{f} #{answers(f)}"
          puts "hash #{f} #{JSON.dump($rollout.get(f).to_hash)}"
          key = "#{$prefix}feature:#{f}"
          before, registry = $redis.get(key), $redis.get("#{$prefix}feature:__features__")
          $rollout.with_feature(f) {}
          same = before == $redis.get(key) && registry == $redis.get("#{$prefix}feature:__features__")
          puts "resave #{f} #{same ? 'same' : 'DIFFERENT ' + before + ' -> ' + $redis.get(key)}"
        end
    "##;
    let output = gem.run(script, &written.join("\n")).await;
    let snapshot = store.snapshot().await.unwrap();
    assert_same_answers(&output, &snapshot, &written);
    for line in output.lines() {
        if let Some(resave) = line.strip_prefix("resave ") {
            assert!(
                resave.ends_with(" same"),
                "the gem re-saved a Ramp payload differently: {resave}"
            );
        }
        if let Some(hash) = line.strip_prefix("hash ") {
            let (name, json) = hash.split_once(' ').unwrap();
            let gem_view: Value = serde_json::from_str(json).unwrap();
            let feature = store
                .feature(&FeatureName::new(name).unwrap())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                gem_view["percentage"].as_f64(),
                Some(feature.percentage.value()),
                "{name}"
            );
            let users: Vec<&str> = feature.users.iter().map(UserId::as_str).collect();
            assert_eq!(gem_view["users"], json!(users), "{name}");
            let groups: Vec<&str> = feature.groups.iter().map(GroupName::as_str).collect();
            assert_eq!(gem_view["groups"], json!(groups), "{name}");
            let mut data = gem_view["data"].as_object().unwrap().clone();
            assert!(
                data.remove("__ramp").is_some(),
                "{name}: the gem keeps Ramp's record"
            );
            assert_eq!(data, feature.data, "{name}");
            let earlier = before_resave
                .features
                .iter()
                .find(|earlier| earlier.name == feature.name)
                .unwrap();
            assert_eq!(
                feature.version, earlier.version,
                "{name}: the gem's re-save is not a change"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gems_default_layout_without_randomize() {
    if !common::redis_available("differential") || !common::ruby::available("differential") {
        return;
    }
    let url = format!("{}/{OWN_DATABASE}", common::REDIS);
    let mut redis = common::raw(OWN_DATABASE).await;
    let _: () = redis::cmd("FLUSHDB").query_async(&mut redis).await.unwrap();
    let store = RedisStore::open_url(&url).await.unwrap();
    let gem = Gem {
        redis_url: url,
        prefix: String::new(),
        randomize: false,
        logging: false,
    };
    both_directions(&store, &gem).await;
    let _: () = redis::cmd("FLUSHDB").query_async(&mut redis).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespaced_app_with_randomize_percentage() {
    if !common::redis_available("differential") || !common::ruby::available("differential") {
        return;
    }
    let (store, _guard) = common::store("&randomize=true").await;
    let gem = Gem {
        redis_url: format!("{}/0", common::REDIS),
        prefix: store.url().prefix.clone(),
        randomize: true,
        logging: false,
    };
    both_directions(&store, &gem).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_written_by_either_side_is_listed_by_the_other() {
    if !common::redis_available("differential") || !common::ruby::available("differential") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let gem = Gem {
        redis_url: format!("{}/0", common::REDIS),
        prefix: store.url().prefix.clone(),
        randomize: false,
        logging: true,
    };
    gem.run(
        r##"$rollout.logging.with_context(actor: "rb") do
             $rollout.activate_percentage(:hist, 30)
             $rollout.activate_user(:hist, "7")
           end"##,
        "",
    )
    .await;
    let hist = FeatureName::new("hist").unwrap();
    let from_gem = store
        .history(&HistoryQuery {
            feature: Some(hist.clone()),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    let shown: Vec<String> = from_gem
        .iter()
        .map(|event| format!("{} {}", event.actor, event.changes[0]))
        .collect();
    assert_eq!(shown, ["rb users +1 (7)", "rb percentage from 0.0 to 30.0"]);
    assert_eq!(
        store.history(&HistoryQuery::default()).await.unwrap(),
        from_gem,
        "global: true"
    );
    assert_eq!(
        store.history_event(from_gem[1].id).await.unwrap().as_ref(),
        Some(&from_gem[1])
    );

    let ana = Attribution::new("ana");
    let steps = [
        Change::SetPercentage {
            percentage: Percentage::new(40.0).unwrap(),
        },
        Change::AddUsers {
            users: vec![UserId::new("8").unwrap()],
        },
        Change::SetData {
            data: json!({"owner": "bo"}).as_object().unwrap().clone(),
        },
    ];
    for step in &steps {
        store.apply(&hist, step, None, &ana).await.unwrap();
    }
    let output = gem
        .run(
            r##"events = $rollout.logging.events(:hist)
               puts JSON.dump(events.map { |e| [e.name, e.context[:actor], e.data] })
               puts $rollout.logging.global_events.size
               puts $rollout.logging.events(:hist).each_cons(2).all? { |a, b| a.created_at <= b.created_at }"##,
            "",
        )
        .await;
    let lines: Vec<&str> = output.lines().collect();
    let listed: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(
        listed,
        json!([
            ["update", "rb", {"before": {"percentage": 0}, "after": {"percentage": 30}}],
            ["update", "rb", {"before": {"users": []}, "after": {"users": ["7"]}}],
            ["update", "ana", {"before": {"percentage": 30.0}, "after": {"percentage": 40.0}}],
            ["update", "ana", {"before": {"users": ["7"]}, "after": {"users": ["7", "8"]}}],
            ["update", "ana", {"before": {"data.owner": null}, "after": {"data.owner": "bo"}}],
        ]),
        "the gem lists Ramp's events as its own, oldest first"
    );
    assert_eq!(lines[1], "5");
    assert_eq!(lines[2], "true");
}

#[tokio::test]
async fn numbers_read_and_print_exactly_as_in_ruby() {
    if !common::ruby::available("differential") {
        return;
    }
    let gem = Gem {
        redis_url: format!("{}/0", common::REDIS),
        prefix: String::new(),
        randomize: false,
        logging: false,
    };
    let (texts, floats) = scenario::number_cases();
    let script = r##"
        lines = STDIN.read.split("\n", -1)
        floats = lines.shift.split(",")
        floats.each { |hex| puts [hex].pack("H*").unpack1("G").to_s }
        lines.each { |text| puts [text.to_f].pack("G").unpack1("H*") }
    "##;
    let hexes: Vec<String> = floats
        .iter()
        .map(|value| format!("{:016x}", value.to_bits()))
        .collect();
    let input = format!("{}\n{}", hexes.join(","), texts.join("\n"));
    let output = gem.run(script, &input).await;
    let mut lines = output.lines();
    for value in &floats {
        assert_eq!(
            ramp_store_redis::gem_format::ruby_float_to_s(*value),
            lines.next().unwrap(),
            "{value:?}"
        );
    }
    for text in &texts {
        let ruby = f64::from_bits(u64::from_str_radix(lines.next().unwrap(), 16).unwrap());
        let ramp = ramp_store_redis::gem_format::ruby_to_f(text);
        assert_eq!(
            ramp.to_bits(),
            ruby.to_bits(),
            "{text:?}: Ramp {ramp}, Ruby {ruby}"
        );
    }
}
