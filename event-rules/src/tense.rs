//! Events are facts: the action of a type name is in the past tense.
//!
//! # The rule
//!
//! The action (the segment after the dot) is split at `_` into words. The
//! name is a fact when one of those words is a past participle:
//!
//! - a regular one, ending in `ed` (`published`, `completed`), except base
//!   verbs that happen to end in `ed` (`feed`, `need`, `proceed`, `embed`,
//!   ...);
//! - a common irregular one (`sent`, `paid`, `built`, `written`, `sold`,
//!   `reset`, ...), listed in [`IRREGULAR`]. Verbs whose past is their base
//!   form (`reset`, `set`, `read`) count only as the last word: `password.reset`
//!   is a fact, `user.reset_password` a command.
//!
//! Anything else is read as a command and refused with the fact it should
//! be:
//!
//! - when the *domain* is a known imperative verb and the action is its
//!   object (`send.email`, `process.payment`, `publish.course`), the two
//!   swap and the verb takes its past form: `payment.processed`,
//!   `course.published`. Verbs whose effect happens elsewhere (`send`,
//!   `notify`, `dispatch`, `email`) become `requested`, the fact the producer
//!   actually knows: `send.email` -> `email.requested`;
//! - otherwise the first word of the action takes its past form and moves
//!   last: `payment.process` -> `payment.processed`,
//!   `user.reset_password` -> `user.password_reset`.
//!
//! Past forms: the irregular table first; then verbs that double their final
//! consonant (`submit` -> `submitted`, a short list); then a final `e`
//! takes `d` (`archive` -> `archived`), consonant + `y` -> `ied`
//! (`apply` -> `applied`), `ic` -> `icked` (`panic` -> `panicked`) and `ed`
//! appended to everything else.

use core::fmt;

/// Irregular verbs: base form and past participle.
pub const IRREGULAR: &[(&str, &str)] = &[
    ("become", "become"),
    ("begin", "begun"),
    ("bend", "bent"),
    ("bind", "bound"),
    ("break", "broken"),
    ("bring", "brought"),
    ("build", "built"),
    ("buy", "bought"),
    ("catch", "caught"),
    ("choose", "chosen"),
    ("come", "come"),
    ("cut", "cut"),
    ("deal", "dealt"),
    ("do", "done"),
    ("draw", "drawn"),
    ("drive", "driven"),
    ("eat", "eaten"),
    ("fall", "fallen"),
    ("feed", "fed"),
    ("feel", "felt"),
    ("find", "found"),
    ("fly", "flown"),
    ("forbid", "forbidden"),
    ("forget", "forgotten"),
    ("forgive", "forgiven"),
    ("freeze", "frozen"),
    ("get", "got"),
    ("give", "given"),
    ("go", "gone"),
    ("grow", "grown"),
    ("hang", "hung"),
    ("have", "had"),
    ("hear", "heard"),
    ("hide", "hidden"),
    ("hit", "hit"),
    ("hold", "held"),
    ("keep", "kept"),
    ("know", "known"),
    ("lay", "laid"),
    ("lead", "led"),
    ("leave", "left"),
    ("lend", "lent"),
    ("let", "let"),
    ("lose", "lost"),
    ("make", "made"),
    ("mean", "meant"),
    ("meet", "met"),
    ("overcome", "overcome"),
    ("override", "overridden"),
    ("overwrite", "overwritten"),
    ("pay", "paid"),
    ("put", "put"),
    ("quit", "quit"),
    ("read", "read"),
    ("rebuild", "rebuilt"),
    ("rerun", "rerun"),
    ("reset", "reset"),
    ("resend", "resent"),
    ("rewrite", "rewritten"),
    ("ride", "ridden"),
    ("ring", "rung"),
    ("rise", "risen"),
    ("run", "run"),
    ("say", "said"),
    ("see", "seen"),
    ("seek", "sought"),
    ("sell", "sold"),
    ("send", "sent"),
    ("set", "set"),
    ("shake", "shaken"),
    ("shoot", "shot"),
    ("show", "shown"),
    ("shut", "shut"),
    ("sing", "sung"),
    ("sit", "sat"),
    ("sleep", "slept"),
    ("speak", "spoken"),
    ("spend", "spent"),
    ("split", "split"),
    ("spread", "spread"),
    ("stand", "stood"),
    ("steal", "stolen"),
    ("stick", "stuck"),
    ("strike", "struck"),
    ("swear", "sworn"),
    ("swim", "swum"),
    ("take", "taken"),
    ("teach", "taught"),
    ("tear", "torn"),
    ("tell", "told"),
    ("think", "thought"),
    ("throw", "thrown"),
    ("undo", "undone"),
    ("understand", "understood"),
    ("upset", "upset"),
    ("wake", "woken"),
    ("wear", "worn"),
    ("win", "won"),
    ("withdraw", "withdrawn"),
    ("write", "written"),
];

/// Base verbs that end in `ed` without being past tense.
const BASE_ENDING_IN_ED: &[&str] = &[
    "bed", "bleed", "breed", "embed", "exceed", "feed", "heed", "need", "proceed", "seed", "shed",
    "shred", "speed", "succeed", "wed", "weed",
];

/// Verbs that double their last consonant before `ed`.
const DOUBLING: &[&str] = &[
    "admit", "ban", "bar", "chat", "commit", "control", "drop", "emit", "flag", "grab", "jam",
    "log", "map", "occur", "omit", "patrol", "permit", "pin", "plan", "plug", "prefer", "rob",
    "scan", "ship", "shop", "skip", "slip", "star", "step", "stop", "submit", "swap", "tag",
    "transfer", "trim", "unpin", "unplug", "wrap",
];

/// Imperative verbs recognised as the domain of a command-style name
/// (`send.email`, `process.payment`).
const IMPERATIVES: &[&str] = &[
    "activate",
    "add",
    "apply",
    "approve",
    "archive",
    "assign",
    "ban",
    "block",
    "book",
    "build",
    "buy",
    "calculate",
    "cancel",
    "charge",
    "check",
    "close",
    "compute",
    "confirm",
    "create",
    "deactivate",
    "delete",
    "deliver",
    "dispatch",
    "do",
    "email",
    "emit",
    "enroll",
    "execute",
    "export",
    "fetch",
    "generate",
    "get",
    "grant",
    "handle",
    "import",
    "invite",
    "invoice",
    "issue",
    "load",
    "lock",
    "make",
    "mark",
    "move",
    "notify",
    "open",
    "pay",
    "post",
    "print",
    "process",
    "publish",
    "push",
    "put",
    "refund",
    "register",
    "reject",
    "remove",
    "renew",
    "request",
    "reset",
    "restore",
    "revoke",
    "run",
    "save",
    "schedule",
    "sell",
    "send",
    "set",
    "ship",
    "sign",
    "start",
    "stop",
    "store",
    "submit",
    "suspend",
    "sync",
    "transfer",
    "trigger",
    "unlock",
    "update",
    "upload",
    "validate",
    "verify",
    "write",
];

/// Verbs whose effect happens in another service: the producer only knows
/// that it asked, so the fact is `requested`.
const DELEGATED: &[&str] = &["dispatch", "email", "notify", "send"];

/// A type name whose action is not a past-tense fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImperativeError {
    /// The name as given.
    pub name: String,
    /// The past-tense fact the name should probably be.
    pub suggestion: String,
}

impl fmt::Display for ImperativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event type `{}` reads as a command; events are facts named in the past tense: use `{}`",
            self.name, self.suggestion
        )
    }
}

impl std::error::Error for ImperativeError {}

/// Checks that the action of `name` (`domain.action`) is in the past tense;
/// see the [module documentation](self) for the rule.
///
/// Call it on names that already pass
/// [`check_syntax`](crate::naming::check_syntax); a name without a dot is
/// read as a bare action.
///
/// ```
/// use event_rules::tense::check_past_tense;
/// assert!(check_past_tense("enrollment.completed").is_ok());
/// assert!(check_past_tense("invoice.paid").is_ok());
/// let err = check_past_tense("send.email").unwrap_err();
/// assert_eq!(err.suggestion, "email.requested");
/// assert_eq!(check_past_tense("process.payment").unwrap_err().suggestion, "payment.processed");
/// ```
pub fn check_past_tense(name: &str) -> Result<(), ImperativeError> {
    let (domain, action) = match name.split_once('.') {
        Some((domain, action)) => (domain, action),
        None => ("", name),
    };
    let words: Vec<&str> = action.split('_').filter(|w| !w.is_empty()).collect();
    let last = words.len().saturating_sub(1);
    let fact = words.iter().enumerate().any(|(i, w)| {
        // `reset`, `set`, `read`, ...: the same word is the base and the past;
        // in verb-object order (`reset_password`) it is the command.
        is_past_participle(w) && (i == last || !is_same_form(w))
    });
    if fact {
        return Ok(());
    }
    let suggestion = if is_imperative(domain) && !action.is_empty() {
        format!("{action}.{}", fact_of(domain))
    } else if let Some((first, rest)) = words.split_first() {
        let fact = fact_of(first);
        let prefix = if domain.is_empty() {
            String::new()
        } else {
            format!("{domain}.")
        };
        if rest.is_empty() {
            format!("{prefix}{fact}")
        } else {
            format!("{prefix}{}_{fact}", rest.join("_"))
        }
    } else {
        format!("{domain}.created")
    };
    Err(ImperativeError {
        name: name.to_owned(),
        suggestion,
    })
}

/// Whether `word` (lower case) is a past participle by the rule above.
///
/// ```
/// use event_rules::tense::is_past_participle;
/// assert!(is_past_participle("published"));
/// assert!(is_past_participle("sent"));
/// assert!(!is_past_participle("feed"));
/// assert!(!is_past_participle("publish"));
/// ```
pub fn is_past_participle(word: &str) -> bool {
    if word.ends_with("ed") && word.len() > 2 && !BASE_ENDING_IN_ED.contains(&word) {
        return true;
    }
    IRREGULAR.iter().any(|(_, past)| *past == word)
}

/// The past participle of the verb `word` (`process` -> `processed`).
///
/// ```
/// use event_rules::tense::past_participle;
/// assert_eq!(past_participle("publish"), "published");
/// assert_eq!(past_participle("archive"), "archived");
/// assert_eq!(past_participle("apply"), "applied");
/// assert_eq!(past_participle("submit"), "submitted");
/// assert_eq!(past_participle("write"), "written");
/// ```
pub fn past_participle(word: &str) -> String {
    if let Some((_, past)) = IRREGULAR.iter().find(|(base, _)| *base == word) {
        return (*past).to_owned();
    }
    if DOUBLING.contains(&word) {
        let last = word.chars().last().unwrap_or_default();
        return format!("{word}{last}ed");
    }
    if word.ends_with('e') {
        return format!("{word}d");
    }
    if let Some(stem) = word.strip_suffix('y') {
        if stem.chars().last().is_some_and(|c| !"aeiou".contains(c)) {
            return format!("{stem}ied");
        }
    }
    if word.ends_with("ic") {
        return format!("{word}ked");
    }
    format!("{word}ed")
}

fn is_same_form(word: &str) -> bool {
    IRREGULAR
        .iter()
        .any(|(base, past)| base == past && *base == word)
}

fn is_imperative(word: &str) -> bool {
    IMPERATIVES.contains(&word)
}

fn fact_of(verb: &str) -> String {
    if DELEGATED.contains(&verb) {
        "requested".to_owned()
    } else {
        past_participle(verb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion(name: &str) -> String {
        match check_past_tense(name) {
            Ok(()) => panic!("`{name}` was accepted"),
            Err(e) => e.suggestion,
        }
    }

    #[test]
    fn facts_pass() {
        for name in [
            "course.published",
            "course.created",
            "enrollment.completed",
            "enrollment.expired",
            "payment.received",
            "user.deactivated",
            "invoice.paid",
            "email.sent",
            "report.written",
            "item.sold",
            "password.reset",
            "user.signed_up",
            "user.email_changed",
            "course.agreed",
        ] {
            assert_eq!(check_past_tense(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn commands_with_a_verb_domain_swap() {
        assert_eq!(suggestion("send.email"), "email.requested");
        assert_eq!(suggestion("process.payment"), "payment.processed");
        assert_eq!(suggestion("publish.course"), "course.published");
        assert_eq!(suggestion("pay.invoice"), "invoice.paid");
        assert_eq!(suggestion("ship.order"), "order.shipped");
        assert_eq!(suggestion("apply.discount"), "discount.applied");
        assert_eq!(suggestion("write.report"), "report.written");
    }

    #[test]
    fn commands_with_a_verb_action_take_the_past() {
        assert_eq!(suggestion("payment.process"), "payment.processed");
        assert_eq!(suggestion("course.publish"), "course.published");
        assert_eq!(suggestion("order.submit"), "order.submitted");
        assert_eq!(suggestion("user.reset_password"), "user.password_reset");
        assert_eq!(suggestion("cattle.feed"), "cattle.fed");
        assert_eq!(suggestion("post.feed"), "feed.posted");
        assert_eq!(suggestion("course.archive"), "course.archived");
    }

    #[test]
    fn past_forms() {
        assert_eq!(past_participle("stop"), "stopped");
        assert_eq!(past_participle("sync"), "synced");
        assert_eq!(past_participle("panic"), "panicked");
        assert_eq!(past_participle("play"), "played");
        assert_eq!(past_participle("copy"), "copied");
        assert_eq!(past_participle("send"), "sent");
    }

    #[test]
    fn the_message_names_both() {
        let err = check_past_tense("send.email").unwrap_err();
        assert_eq!(
            err.to_string(),
            "event type `send.email` reads as a command; events are facts named in the past tense: use `email.requested`"
        );
    }
}
