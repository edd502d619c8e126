//! Running the real rollout gem (Debian's `ruby-rollout` 2.5.0 with `ruby-redis`) as a test
//! oracle: one Ruby process per case, whose output the test compares with Ramp's answers.
//!
//! The prelude builds `$rollout` on the test database with the options the test names, wraps
//! the client in a minimal namespace when a prefix is set (the calls the gem makes, prefixed as
//! `redis-namespace` would, which Debian does not ship), and defines the code group `sevens`
//! that the Rust side defines identically.

use std::io::Write;
use std::process::{Command, Stdio};

/// Whether `ruby` with the gem is installed. Without it, prints a loud SKIPPED line and returns
/// false, except with CI=true, where the oracle must be there.
pub fn available(test: &str) -> bool {
    let loaded = Command::new("ruby")
        .args(["-e", "require 'redis'; require 'rollout'"])
        .output();
    match loaded {
        Ok(output) if output.status.success() => true,
        outcome if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("ruby with the rollout gem is not usable ({outcome:?}) and CI=true: {test} must run")
        }
        outcome => {
            crate::loud!("SKIPPED: ruby with the rollout gem is not usable ({outcome:?}): {test}");
            false
        }
    }
}

const PRELUDE: &str = r##"
require "redis"
require "rollout"
require "json"
$redis = Redis.new(url: ENV.fetch("REDIS_URL"))
$prefix = ENV.fetch("PREFIX", "")

class Namespaced
  def initialize(redis, prefix); @redis = redis; @prefix = prefix; end
  def get(key); @redis.get(@prefix + key); end
  def set(key, value); @redis.set(@prefix + key, value); end
  def del(key); @redis.del(@prefix + key); end
  def mget(*keys); @redis.mget(*keys.map { |key| @prefix + key }); end
  def exists?(key); @redis.exists?(@prefix + key); end
  def zadd(key, *args); @redis.zadd(@prefix + key, *args); end
  def zrange(key, *args, **options); @redis.zrange(@prefix + key, *args, **options); end
  def zremrangebyrank(key, *args); @redis.zremrangebyrank(@prefix + key, *args); end
end

storage = $prefix.empty? ? $redis : Namespaced.new($redis, $prefix)
options = { randomize_percentage: ENV["RANDOMIZE"] == "true" }
options[:logging] = { history_length: 50, global: true } if ENV["LOGGING"] == "true"
$rollout = Rollout.new(storage, options)
$rollout.define_group(:sevens) { |user| user.to_s.to_i % 7 == 0 }

# "1"/"0" for `active?` of users 1..10000, and the answer for no user, in one line.
def answers(name)
  feature = $rollout.get(name)
  anonymous = feature.active?($rollout, nil) ? "1" : "0"
  "#{anonymous} " + (1..10_000).map { |id| feature.active?($rollout, id) ? "1" : "0" }.join
end
"##;

/// Where and how the gem runs.
#[derive(Debug, Clone)]
pub struct Gem {
    pub redis_url: String,
    pub prefix: String,
    pub randomize: bool,
    pub logging: bool,
}

impl Gem {
    /// Runs `script` after the prelude, feeding `input` on standard input; returns standard
    /// output, or panics with Ruby's error.
    pub async fn run(&self, script: &str, input: &str) -> String {
        let (gem, script, input) = (self.clone(), script.to_owned(), input.to_owned());
        tokio::task::spawn_blocking(move || gem.run_blocking(&script, &input))
            .await
            .unwrap()
    }

    fn run_blocking(&self, script: &str, input: &str) -> String {
        let mut child = Command::new("ruby")
            .arg("-e")
            .arg(format!("{PRELUDE}\n{script}"))
            .env("REDIS_URL", &self.redis_url)
            .env("PREFIX", &self.prefix)
            .env("RANDOMIZE", self.randomize.to_string())
            .env("LOGGING", self.logging.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ruby starts");
        let mut stdin = child.stdin.take().expect("a stdin pipe");
        let input = input.to_owned();
        let feeding = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let output = child.wait_with_output().expect("ruby finishes");
        feeding
            .join()
            .expect("the feeding thread")
            .expect("ruby reads its input");
        assert!(
            output.status.success(),
            "ruby failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stderr),
            script
        );
        String::from_utf8(output.stdout).expect("ruby prints UTF-8")
    }
}
