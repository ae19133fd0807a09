//! What the generated types do, through the runtime: compiled and run by
//! `tests/compile.rs` in a crate that includes every golden snapshot.

use event_runtime::{Envelope, ErrorClass, Event};
use gencheck::keywords::{CoursePublishedV1, CoursePublishedV1Level};
use gencheck::minors::{EnrollmentStartedV1, EnrollmentStartedV2};
use gencheck::shared_types::PartnerProfile;
use gencheck::simple_event::EnrollmentCompletedV1;
use gencheck::unions::{PaymentReceivedV1, PaymentReceivedV1Method, PaymentReceivedV1Reference};
use serde_json::{Value, json};

fn envelope(type_name: &str, version: &str, data: Value) -> String {
    json!({
        "id": "evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6",
        "type": type_name,
        "version": version,
        "timestamp": "2026-03-27T10:30:00.000Z",
        "source": "test",
        "tenantId": "tenant_7f3c",
        "correlationId": "req_xyz789",
        "data": data,
    })
    .to_string()
}

fn completed(score: Value, title: &str) -> String {
    envelope(
        "enrollment.completed",
        "1.0",
        json!({
            "enrollmentId": "0b8e4a52-54f4-4a5c-9d4e-3f1f2b0c9a11",
            "userId": "5d0c5d2e-8a0b-4a3e-9a53-0d4f0e3b8e22",
            "courseId": "9a3c1d7e-2b4f-4c6a-8e9d-1f2a3b4c5d33",
            "courseTitle": title,
            "completedAt": "2026-03-27T10:30:00.000Z",
            "score": score,
            "totalDuration": 120,
        }),
    )
}

#[test]
fn a_valid_event_decodes_and_knows_its_contract() {
    let e = Envelope::<EnrollmentCompletedV1>::from_json_str(&completed(json!(85), "Rust")).unwrap();
    assert_eq!(e.data().score, 85.0);
    assert_eq!(e.data().course_title, "Rust");
    assert_eq!(EnrollmentCompletedV1::TYPE, "enrollment.completed");
    assert_eq!(EnrollmentCompletedV1::PRODUCER, "enrollment-service");
    assert_eq!(e.partition_key().as_deref(), Some("0b8e4a52-54f4-4a5c-9d4e-3f1f2b0c9a11"));
}

#[test]
fn a_broken_constraint_is_a_permanent_error_at_its_path() {
    let err = Envelope::<EnrollmentCompletedV1>::from_json_str(&completed(json!(101), "Rust")).unwrap_err();
    assert_eq!(err.path(), "data.score");
    assert_eq!(err.class(), ErrorClass::Permanent);
    let long = "x".repeat(201);
    let err = Envelope::<EnrollmentCompletedV1>::from_json_str(&completed(json!(50), &long)).unwrap_err();
    assert_eq!(err.path(), "data.courseTitle");
}

#[test]
fn a_producer_checks_before_publishing() {
    let mut e = Envelope::<EnrollmentCompletedV1>::from_json_str(&completed(json!(85), "Rust"))
        .unwrap()
        .into_data();
    assert!(e.validate().is_ok());
    e.score = 150.0;
    let err = e.validate().unwrap_err();
    assert_eq!(err.path(), "score");
}

fn published(level: &str, slug: &str) -> String {
    envelope(
        "course.published",
        "1.0",
        json!({
            "courseId": "9a3c1d7e-2b4f-4c6a-8e9d-1f2a3b4c5d33",
            "publishedAt": "2026-03-27T10:30:00Z",
            "availableFrom": "2026-04-01",
            "slug": slug,
            "schemaKind": "course",
            "level": level,
            "seats": 30,
            "tags": ["rust"],
            "match": "kept",
        }),
    )
}

#[test]
fn an_unknown_enum_value_is_kept_and_written_back_unchanged() {
    let e = Envelope::<CoursePublishedV1>::from_json_str(&published("expert", "rust-101")).unwrap();
    assert_eq!(e.data().level, CoursePublishedV1Level::Other("expert".to_string()));
    assert_eq!(e.data().match_.as_deref(), Some("kept"));
    // Missing fields with a schema `default` take it.
    assert_eq!(e.data().priority, 5);
    assert_eq!(e.data().locale, "en");
    assert!(!e.data().featured);
    let out: Value = serde_json::from_str(&e.to_json_string().unwrap()).unwrap();
    assert_eq!(out["data"]["level"], "expert");
    assert_eq!(out["data"]["availableFrom"], "2026-04-01");
    let known = Envelope::<CoursePublishedV1>::from_json_str(&published("in-progress", "rust-101")).unwrap();
    assert_eq!(known.data().level, CoursePublishedV1Level::InProgress);
}

#[test]
fn pattern_and_const_are_enforced() {
    let err = Envelope::<CoursePublishedV1>::from_json_str(&published("beginner", "Not A Slug")).unwrap_err();
    assert_eq!(err.path(), "data.slug");
    let bad_const = published("beginner", "ok").replace("\"course\"", "\"lesson\"");
    let err = Envelope::<CoursePublishedV1>::from_json_str(&bad_const).unwrap_err();
    assert_eq!(err.path(), "data.schemaKind");
}

#[test]
fn email_and_uri_formats_are_enforced() {
    let with = |key: &str, value: &str| {
        let mut v: Value = serde_json::from_str(&published("beginner", "rust-101")).unwrap();
        v["data"][key] = json!(value);
        v.to_string()
    };
    let ok = Envelope::<CoursePublishedV1>::from_json_str(&with("contactEmail", "team@example.com")).unwrap();
    assert_eq!(ok.data().contact_email.as_deref(), Some("team@example.com"));
    let err = Envelope::<CoursePublishedV1>::from_json_str(&with("contactEmail", "team at example")).unwrap_err();
    assert_eq!(err.path(), "data.contactEmail");
    let err = Envelope::<CoursePublishedV1>::from_json_str(&with("homepage", "example.com/course")).unwrap_err();
    assert_eq!(err.path(), "data.homepage");
}

#[test]
fn older_minors_decode_into_the_major_type_and_newer_majors_do_not() {
    let data = json!({
        "enrollmentId": "0b8e4a52-54f4-4a5c-9d4e-3f1f2b0c9a11",
        "startedAt": "2026-03-27T10:30:00Z",
    });
    let e = Envelope::<EnrollmentStartedV1>::from_json_str(&envelope("enrollment.started", "1.0", data.clone())).unwrap();
    assert_eq!(e.data().device, None);
    assert_eq!(e.data().lesson_id, None);
    assert!(Envelope::<EnrollmentStartedV2>::from_json_str(&envelope("enrollment.started", "1.0", data)).is_err());
}

#[test]
fn a_tagged_union_reads_its_discriminator() {
    let data = json!({
        "paymentId": "0b8e4a52-54f4-4a5c-9d4e-3f1f2b0c9a11",
        "method": { "kind": "card", "last4": "4242" },
        "reference": 7,
    });
    let e = Envelope::<PaymentReceivedV1>::from_json_str(&envelope("payment.received", "1.0", data)).unwrap();
    match &e.data().method {
        PaymentReceivedV1Method::Card(card) => assert_eq!(card.last4, "4242"),
        other => panic!("decoded {other:?}"),
    }
    assert_eq!(e.data().reference, Some(PaymentReceivedV1Reference::Integer(7)));
    let out: Value = serde_json::from_str(&e.to_json_string().unwrap()).unwrap();
    assert_eq!(out["data"]["method"], json!({ "kind": "card", "last4": "4242" }));
    // A producer's check reaches into the variant.
    let mut payment = e.into_data();
    assert!(payment.validate().is_ok());
    if let PaymentReceivedV1Method::Card(card) = &mut payment.method {
        card.last4 = "12".to_string();
    }
    assert_eq!(payment.validate().unwrap_err().path(), "method.last4");
}

#[test]
fn foreign_property_names_are_kept_on_the_wire() {
    let wire = json!({
        "partner_id": "p1",
        "DisplayName": "Partner",
        "contact-email": "a@b.example",
        "$id": "x",
        "2faEnabled": true,
        "partnerId": "p2",
        "self": "s",
        "addressLine1": "1 Road",
    });
    let p: PartnerProfile = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(p.partner_id_2.as_deref(), Some("p2"));
    assert_eq!(serde_json::to_value(&p).unwrap(), wire);
}

/// `x-event.expectedEvery` reaches the contract through the derive, where
/// the code-first silence alert reads it; an event without one has none.
#[test]
fn the_expected_cadence_is_part_of_the_contract() {
    use gencheck::expected_every::PaymentSettledV1;
    assert_eq!(PaymentSettledV1::contract().expected_every, Some("1d"));
    assert_eq!(EnrollmentCompletedV1::contract().expected_every, None);
}

mod roots {
    //! Shared definitions whose root is not an object: newtypes that
    //! accept exactly what their schema accepts.
    use event_runtime::EventData;
    use gencheck::roots::{
        Anything, Current, Flag, Handle, IdOrName, Labels, Level, Loose, Mixed, Moments, Narrowed,
        NarrowedKind2, OnlyNull, Percent, Ratio, Settings, Short, Slug, Tags, Window, Yes,
    };
    use event_runtime::__private::serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    fn accepts<T: DeserializeOwned + EventData>(value: Value) -> bool {
        match serde_json::from_str::<T>(&value.to_string()) {
            Ok(v) => v.validate().is_ok(),
            Err(_) => false,
        }
    }

    /// Every value of `ok` decodes, every value of `bad` does not.
    fn check<T: DeserializeOwned + EventData>(ok: &[Value], bad: &[Value]) {
        for v in ok {
            assert!(accepts::<T>(v.clone()), "{} refused {v}", std::any::type_name::<T>());
        }
        for v in bad {
            assert!(!accepts::<T>(v.clone()), "{} accepted {v}", std::any::type_name::<T>());
        }
    }

    #[test]
    fn scalar_roots_keep_their_constraints() {
        check::<Slug>(&[json!("a-1")], &[json!(""), json!("A"), json!("a".repeat(41)), json!(1)]);
        check::<Percent>(&[json!(0), json!(100)], &[json!(101), json!(-1), json!("1")]);
        check::<Ratio>(&[json!(1), json!(0.5)], &[json!(0), json!(1.5)]);
        check::<Flag>(&[json!(true)], &[json!("true"), json!(null)]);
        check::<Handle>(&[json!(null), json!("ada")], &[json!("ad"), json!(3)]);
        check::<Short>(&[json!("ab")], &[json!("abcde")]);
        // A producer builds one through the same checks.
        assert!(Percent::new(100).is_ok());
        assert_eq!(
            Percent::new(101).unwrap_err().to_string(),
            "must be at most 100, found 101"
        );
        assert!(Slug::new("Not A Slug".to_string()).is_err());
    }

    #[test]
    fn array_and_map_roots_check_their_items() {
        check::<Tags>(
            &[json!(["a"]), json!(["a", "b", "c"])],
            &[json!([]), json!(["a", "b", "c", "d"]), json!(["a".repeat(11)]), json!("a")],
        );
        let err = serde_json::from_str::<Tags>(r#"["ok", "far too long"]"#).unwrap_err();
        assert!(err.to_string().contains("[1]"), "{err}");
        check::<Moments>(&[json!(["2026-03-27T10:30:00Z"])], &[json!(["yesterday"])]);
        let m: Moments = serde_json::from_str(r#"["2026-03-27T10:30:00+02:00"]"#).unwrap();
        assert_eq!(serde_json::to_value(&m).unwrap(), json!(["2026-03-27T10:30:00+02:00"]));
        check::<Labels>(&[json!({"a": "b"}), json!({})], &[json!({"a": 1}), json!([])]);
    }

    #[test]
    fn enum_and_const_of_any_values_accept_exactly_them() {
        check::<Level>(&[json!(1), json!(2.0), json!(null)], &[json!(3), json!("1")]);
        check::<Mixed>(
            &[json!("low"), json!(2), json!(true), json!({"k": [1.0]})],
            &[json!("high"), json!(false), json!({"k": [1], "x": 0}), json!([])],
        );
        check::<Yes>(&[json!(true)], &[json!(false), json!(1)]);
        // Written back as read.
        let m: Mixed = serde_json::from_str(r#"{"k":[1]}"#).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"k":[1]}"#);
    }

    #[test]
    fn roots_of_several_types_check_each_type_by_its_keywords() {
        check::<IdOrName>(&[json!(1), json!("ada")], &[json!(0), json!("a".repeat(9)), json!(true)]);
        // Without `type`, each keyword applies to the values of its type.
        check::<Loose>(
            &[json!(10), json!("a@b.example"), json!(null), json!([1])],
            &[json!(9), json!("a"), json!("not an email")],
        );
        check::<Anything>(&[json!(null), json!([1, "x"]), json!({"a": 1})], &[]);
    }

    #[test]
    fn a_union_whose_only_alternative_is_null_compiles_and_holds_null() {
        check::<OnlyNull>(&[json!(null)], &[json!(123), json!("x"), json!({})]);
    }

    #[test]
    fn an_all_of_of_values_checks_every_part() {
        check::<Window>(
            &[json!(20), json!(30), json!(24.0)],
            &[json!(19), json!(31), json!(25), json!(20.5), json!("20")],
        );
    }

    #[test]
    fn a_property_narrowed_by_a_second_all_of_part_keeps_both_definitions() {
        let ok = json!({"size": 100, "code": "ab", "kind": "b", "tags": ["x"], "note": "n"});
        let n: Narrowed = serde_json::from_value(ok.clone()).unwrap();
        assert_eq!(n.kind, Some(NarrowedKind2::B));
        for (key, bad) in [
            ("size", json!(101)),
            ("code", json!("a")),
            ("code", json!("abcdefghi")),
            ("tags", json!(["x", "y", "z"])),
            ("note", json!(null)),
        ] {
            let mut v = ok.clone();
            v[key] = bad.clone();
            assert!(
                serde_json::from_value::<Narrowed>(v).is_err(),
                "{key}: {bad} accepted"
            );
        }
        let mut v = ok;
        v.as_object_mut().unwrap().remove("code");
        assert!(serde_json::from_value::<Narrowed>(v).is_err(), "`code` is required by the second part");
    }

    #[test]
    fn a_root_ref_is_the_referenced_type_and_properties_hold_value_enums() {
        let s: Current = serde_json::from_value(json!({"level": 2, "on": true})).unwrap();
        let _: &Settings = &s;
        assert!(serde_json::from_value::<Settings>(json!({"level": 3})).is_err());
        assert!(serde_json::from_value::<Settings>(json!({"on": false})).is_err());
        assert!(serde_json::from_value::<Settings>(json!({"level": "low"})).is_ok());
        // Bounds without `type` apply to numbers; other values pass.
        assert!(serde_json::from_value::<Settings>(json!({"limit": 0})).is_err());
        assert!(serde_json::from_value::<Settings>(json!({"limit": 1.5})).is_ok());
        assert!(serde_json::from_value::<Settings>(json!({"limit": "any"})).is_ok());
    }
}

#[test]
fn an_event_property_with_an_enum_of_numbers_accepts_exactly_them() {
    use gencheck::value_enums::RatingSubmittedV1;
    let rating = |stars: Value, weight: Value| {
        envelope(
            "rating.submitted",
            "1.0",
            json!({"ratingId": "0b8e4a52-54f4-4a5c-9d4e-3f1f2b0c9a11", "stars": stars, "weight": weight}),
        )
    };
    let e = Envelope::<RatingSubmittedV1>::from_json_str(&rating(json!(5), json!(0.5))).unwrap();
    assert_eq!(e.data().stars.0, json!(5));
    assert!(Envelope::<RatingSubmittedV1>::from_json_str(&rating(json!(3), json!(null))).is_ok());
    for (stars, weight) in [(json!(6), json!(1)), (json!(2.5), json!(1)), (json!(1), json!(2))] {
        let err = Envelope::<RatingSubmittedV1>::from_json_str(&rating(stars.clone(), weight.clone()))
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Permanent, "{stars} {weight}: {err}");
    }
}

#[test]
fn a_producer_checks_a_value_newtype_field_before_publishing() {
    use gencheck::value_enums::{RatingSubmittedV1, RatingSubmittedV1Stars};
    let mut e = RatingSubmittedV1 {
        rating_id: "0b8e4a52-54f4-4a5c-9d4e-3f1f2b0c9a11".parse().unwrap(),
        stars: RatingSubmittedV1Stars(json!(5)),
        weight: None,
    };
    assert!(e.validate().is_ok());
    e.stars = RatingSubmittedV1Stars(json!(9));
    let err = e.validate().unwrap_err();
    assert_eq!(err.path(), "stars", "{err}");
}

mod unions_and_nulls {
    use gencheck::union_edges::{
        EitherKey, ExactlyOne, FirstMatch, Holder, HolderNested, HolderNestedVariant1, ShortWord,
        When,
    };
    use serde_json::{Value, json};

    fn read<T: event_runtime::__private::serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn a_date_time_variant_reads_rfc3339_and_writes_it_back() {
        let when: When = read(json!("2026-03-27T10:30:00+02:00")).unwrap();
        assert!(matches!(when, When::DateTime(t) if t.offset().whole_hours() == 2));
        assert_eq!(serde_json::to_value(&when).unwrap(), json!("2026-03-27T10:30:00+02:00"));
        assert_eq!(read::<When>(json!(60)).unwrap(), When::Integer(60));
        let err = read::<When>(json!("yesterday")).unwrap_err();
        assert!(err.contains("matches no alternative of `oneOf`"), "{err}");
    }

    #[test]
    fn one_of_refuses_a_value_two_variants_read_and_any_of_takes_the_first() {
        let err = read::<ExactlyOne>(json!(5)).unwrap_err();
        assert!(
            err.contains("more than one alternative of `oneOf` (`Integer` and `Number`)"),
            "{err}"
        );
        assert_eq!(read::<ExactlyOne>(json!(2.5)).unwrap(), ExactlyOne::Number(2.5));
        assert_eq!(read::<FirstMatch>(json!(5)).unwrap(), FirstMatch::Integer(5));
        // `2.0` is an integer too, as JSON Schema reads it: `oneOf` refuses
        // it, `anyOf` takes the first.
        assert_eq!(read::<FirstMatch>(json!(2.0)).unwrap(), FirstMatch::Integer(2));
        assert!(read::<ExactlyOne>(json!(2.0)).is_err());
        assert_eq!(read::<FirstMatch>(json!(2.5)).unwrap(), FirstMatch::Number(2.5));
    }

    /// The keywords beside a union apply to each alternative: `maxLength`
    /// beside `oneOf` bounds both variants; `type: object` and the
    /// properties beside it make `{"required": [..]}` alternatives objects.
    #[test]
    fn the_keywords_beside_a_union_apply_to_every_alternative() {
        assert_eq!(read::<ShortWord>(json!("bc")).unwrap(), ShortWord::String("bc".into()));
        assert_eq!(read::<ShortWord>(json!("a")).unwrap(), ShortWord::String2("a".into()));
        // Both alternatives: refused by `oneOf`.
        assert!(read::<ShortWord>(json!("ab")).is_err());
        // Neither, only because of the `maxLength` beside the union.
        let err = read::<ShortWord>(json!("bcde")).unwrap_err();
        assert!(err.contains("matches no alternative"), "{err}");
        assert!(read::<ShortWord>(json!("abcd")).is_err());

        let one: EitherKey = read(json!({"foo": 1, "bar": 2})).unwrap();
        assert!(matches!(one, EitherKey::EitherKeyVariant1(ref v) if v.bar == 2));
        assert!(matches!(read::<EitherKey>(json!({"foo": 1, "baz": 3})).unwrap(), EitherKey::EitherKeyVariant2(_)));
        assert!(read::<EitherKey>(json!({"foo": 1, "bar": 2, "baz": 3})).is_err());
        assert!(read::<EitherKey>(json!({"bar": 2})).is_err());
        // The property schema beside the union is checked in each.
        assert!(read::<EitherKey>(json!({"foo": "x", "bar": 2})).is_err());
        assert_eq!(serde_json::to_value(&one).unwrap(), json!({"foo": 1, "bar": 2}));
    }

    fn holder() -> Value {
        json!({"nothing": null, "always_null": null, "maybe_text": null, "nested": null,
               "ghost": [1, {"a": null}], "vendor": {"x": 1.5}})
    }

    #[test]
    fn required_null_and_nullable_properties_keep_their_meaning() {
        let h: Holder = read(holder()).unwrap();
        assert_eq!((h.maybe_text.clone(), h.sometimes_null, h.nested.clone()), (None, None, None));
        assert_eq!(h.additional_properties.get("vendor"), Some(&json!({"x": 1.5})));
        assert_eq!(serde_json::to_value(&h).unwrap(), holder());
        for missing in ["nothing", "always_null", "maybe_text", "nested", "ghost"] {
            let mut v = holder();
            v.as_object_mut().unwrap().remove(missing);
            let err = read::<Holder>(v).unwrap_err();
            assert!(err.contains(&format!("missing field `{missing}`")), "{missing}: {err}");
        }
        let mut v = holder();
        v["always_null"] = json!(0);
        assert!(read::<Holder>(v).is_err());
        let mut v = holder();
        v["sometimes_null"] = Value::Null;
        let h: Holder = read(v.clone()).unwrap();
        assert_eq!(h.sometimes_null, Some(()));
        assert_eq!(serde_json::to_value(&h).unwrap(), v);
        // An alternative that allows `null` makes the field nullable.
        for flexible in [Value::Null, json!("x"), json!(7)] {
            let mut v = holder();
            v["flexible"] = flexible.clone();
            let h: Holder = read(v.clone()).unwrap();
            assert_eq!(h.flexible.as_ref().is_some_and(Option::is_none), flexible.is_null());
            assert_eq!(serde_json::to_value(&h).unwrap(), v);
        }
    }

    #[test]
    fn a_union_of_unions_reads_each_inner_variant() {
        for (value, expected) in [
            (json!("x"), HolderNested::HolderNestedVariant1(HolderNestedVariant1::String("x".into()))),
            (json!(3), HolderNested::HolderNestedVariant1(HolderNestedVariant1::Integer(3))),
            (json!(true), HolderNested::Boolean(true)),
        ] {
            let mut v = holder();
            v["nested"] = value.clone();
            let h: Holder = read(v.clone()).unwrap();
            assert_eq!(h.nested, Some(expected));
            assert_eq!(serde_json::to_value(&h).unwrap(), v);
        }
    }
}

/// A `$ref` to a definition that accepts `null` (`type: ["object",
/// "null"]`, a union with a `null` alternative, an `enum` with `null`) is
/// nullable where it is used: a required one must be present and may be
/// `null`, an optional one keeps missing and `null` apart, and both are
/// written back as read.
mod nullable_refs {
    use gencheck::nullable_refs::{MaybeLevel, MaybePick, RefHolder};
    use serde_json::{Value, json};

    fn read(v: &Value) -> Result<RefHolder, String> {
        serde_json::from_value(v.clone()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_ref_to_a_nullable_definition_is_nullable_at_the_use_site() {
        let all_null = json!({"owner": null, "reviewer": null, "pick": null, "other": null,
            "level": null, "via": null, "word": null, "users": [null, {"login": "a"}]});
        let h = read(&all_null).unwrap();
        assert_eq!((h.owner.is_none(), h.pick.is_none(), h.level.is_none()), (true, true, true));
        assert_eq!((h.reviewer.clone(), h.other.clone(), h.via.clone()), (Some(None), Some(None), Some(None)));
        assert_eq!(serde_json::to_value(&h).unwrap(), all_null);

        let required_only = json!({"owner": null, "pick": 3, "level": "high"});
        let h = read(&required_only).unwrap();
        assert_eq!(h.pick, Some(MaybePick::Integer(3)));
        assert_eq!(h.level, Some(MaybeLevel::High));
        assert_eq!((h.reviewer.clone(), h.other.clone(), h.via.clone()), (None, None, None));
        assert_eq!(serde_json::to_value(&h).unwrap(), required_only);

        let values = json!({"owner": {"login": "o"}, "pick": {"login": "p"}, "level": "low",
            "reviewer": {"login": "r"}, "via": true, "word": "four"});
        assert_eq!(serde_json::to_value(read(&values).unwrap()).unwrap(), values);

        // Required stays required, `null` or not.
        for missing in ["owner", "pick", "level"] {
            let mut v = required_only.clone();
            v.as_object_mut().unwrap().remove(missing);
            let err = read(&v).unwrap_err();
            assert!(err.contains(&format!("missing field `{missing}`")), "{missing}: {err}");
        }
        // What the definition refuses is refused still.
        for (key, bad) in [("owner", json!(1)), ("pick", json!("x")), ("via", json!(2)), ("word", json!("fives"))] {
            let mut v = required_only.clone();
            v[key] = bad;
            assert!(read(&v).is_err(), "{key}");
        }
    }
}

/// `unevaluatedProperties: false` closes an object over every property its
/// schema evaluates, those of its `allOf` parts and `$ref`s included, as
/// `additionalProperties: false` closes it over its own, in a union and on
/// its own, in the decode and in `validate`.
#[test]
fn unevaluated_properties_false_closes_over_all_of_and_ref() {
    use event_runtime::EventData;
    use gencheck::unevaluated::{PublicHook, PushHook, RepoHook};
    let read = |v: Value| serde_json::from_value::<RepoHook>(v).map_err(|e| e.to_string());
    let push = json!({"repository": "r", "ref": "main"});
    let hook = read(push.clone()).unwrap();
    assert!(matches!(&hook, RepoHook::Push(p) if p.repository == "r" && p.ref_ == "main"));
    assert_eq!(serde_json::to_value(&hook).unwrap(), push);
    assert!(matches!(read(json!({"repository": "r"})).unwrap(), RepoHook::Public(_)));
    // A member neither evaluates: no alternative allows it.
    let err = read(json!({"repository": "r", "forks": 3})).unwrap_err();
    assert!(err.contains("matches no alternative"), "{err}");
    // On their own, the types are closed too, and say which member.
    let err = serde_json::from_value::<PushHook>(json!({"repository": "r", "ref": "main", "x": 1}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("x: is not a property the schema names"), "{err}");
    let err = serde_json::from_value::<PublicHook>(json!({"repository": "r", "ref": "x"}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("ref: is not a property the schema names"), "{err}");
    // A value built in code is refused before it is sent.
    let mut p: PublicHook = serde_json::from_value(json!({"repository": "r"})).unwrap();
    assert!(p.validate().is_ok());
    p.additional_properties.insert("forks".into(), json!(3));
    assert_eq!(p.validate().unwrap_err().path(), "forks");
}

/// The same schemas with closed objects read tolerantly
/// (`--tolerate-closed-objects`): held where a union tells its
/// alternatives apart, tolerant on their own.
#[test]
fn unevaluated_properties_false_read_tolerantly_holds_in_unions_only() {
    use gencheck::unevaluated_tolerated::{PublicHook, PushHook, RepoHook};
    let read = |v: Value| serde_json::from_value::<RepoHook>(v).map_err(|e| e.to_string());
    // `repository` comes from the `$ref`, `ref` from an `allOf` part: both
    // are evaluated, so `PushHook` reads this exactly and `PublicHook`,
    // closed over `repository` alone, does not.
    let push = json!({"repository": "r", "ref": "main"});
    let hook = read(push.clone()).unwrap();
    assert!(matches!(&hook, RepoHook::Push(p) if p.repository == "r" && p.ref_ == "main"));
    assert_eq!(serde_json::to_value(&hook).unwrap(), push);
    assert!(matches!(read(json!({"repository": "r"})).unwrap(), RepoHook::Public(_)));
    // Neither reads it exactly; tolerantly, only `PublicHook` does.
    let wire = json!({"repository": "r", "forks": 3});
    let hook = read(wire.clone()).unwrap();
    assert!(matches!(&hook, RepoHook::Public(p) if p.additional_properties.contains_key("forks")));
    assert_eq!(serde_json::to_value(&hook).unwrap(), wire);
    // On their own, the types read tolerantly and write back what they read.
    let extra = json!({"repository": "r", "ref": "main", "x": 1});
    let p: PushHook = serde_json::from_value(extra.clone()).unwrap();
    assert_eq!(serde_json::to_value(&p).unwrap(), extra);
    let p: PublicHook = serde_json::from_value(json!({"repository": "r", "ref": "x"})).unwrap();
    assert_eq!(p.additional_properties.len(), 1);
}

#[test]
fn an_alternative_matches_only_when_its_constraints_hold() {
    use event_runtime::EventData;
    use gencheck::union_edges::Bounded;
    let read = |v: serde_json::Value| serde_json::from_value::<Bounded>(v).map_err(|e| e.to_string());
    assert_eq!(read(json!("ab")).unwrap(), Bounded::String("ab".into()));
    assert_eq!(read(json!("abcdef")).unwrap(), Bounded::String2("abcdef".into()));
    assert_eq!(read(json!([10, -10])).unwrap(), Bounded::Array(vec![10, -10]));
    for refused in [json!("abcd"), json!("ABCDEF"), json!([1, 2, 3]), json!([11])] {
        let err = read(refused.clone()).unwrap_err();
        assert!(err.contains("matches no alternative of `oneOf`"), "{refused}: {err}");
    }
    assert_eq!(
        Bounded::Array(vec![1, 11]).validate().unwrap_err().to_string(),
        "[1]: must be at most 10, found 11"
    );
    assert!(Bounded::String("abcd".into()).validate().is_err());
}

/// A tagged union of another organisation's schema: the discriminator is
/// read once and written once, the variant keeps its unknown properties and
/// its `null`s.
#[test]
fn a_shared_tagged_union_round_trips_with_its_unknown_properties() {
    use gencheck::union_edges::Shape;
    for wire in [
        json!({"kind": "circle", "radius": 2, "color": "red"}),
        json!({"kind": "square", "side": 1.5, "label": null, "meta": {"z": [1, null]}}),
        json!({"kind": "square", "side": 3}),
    ] {
        let shape: Shape = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(&shape).unwrap(), wire);
        assert_eq!(serde_json::to_string(&shape).unwrap().matches("\"kind\"").count(), 1);
    }
}

/// `allOf` narrowing of a shared alert, as third-party webhook catalogs
/// write it: each narrowed property reads exactly what both parts allow.
#[test]
fn all_of_narrows_nullable_unions_formats_and_booleans() {
    use gencheck::allof_narrowing::{Alert, DismissedAlert};
    let read = |v: Value| serde_json::from_value::<DismissedAlert>(v).map_err(|e| e.to_string());
    let dismissed = json!({
        "number": 7,
        "opened": "2026-03-27T10:30:00Z",
        "dismissed_at": "2026-03-28T09:00:00+02:00",
        "fixed_at": null,
        "dismissed_by": {"login": "octo"},
        "fixed": false,
        "after_id": 3
    });
    let alert = read(dismissed.clone()).unwrap();
    assert_eq!(alert.dismissed_by.login, "octo");
    assert_eq!(alert.after_id, Some(3.0));
    assert_eq!(serde_json::to_value(&alert).unwrap(), dismissed);
    let mut without_fixed_at = dismissed.clone();
    without_fixed_at.as_object_mut().unwrap().remove("fixed_at");
    assert_eq!(read(without_fixed_at).unwrap().fixed_at, None);
    // Each value the wider alert allows and the narrowing part does not.
    for (field, value) in [
        ("opened", json!("last week")),
        ("dismissed_at", json!(null)),
        ("fixed_at", json!("2026-03-28T09:00:00Z")),
        ("dismissed_by", json!(null)),
        ("fixed", json!(true)),
        ("after_id", json!("a-string")),
    ] {
        let mut wire = dismissed.clone();
        wire[field] = value.clone();
        assert!(read(wire.clone()).is_err(), "{field} = {value} was read");
        // The shared alert itself takes them (the opened time is a plain
        // string there, the others are its other alternatives).
        serde_json::from_value::<Alert>(wire).unwrap_or_else(|e| panic!("{field}: {e}"));
    }
}

/// A union's alternatives are read exactly first: an open `enum` refuses a
/// value it does not list and a closed object a property it does not name,
/// as JSON Schema reads them, so the alternative the value belongs to is
/// found. With closed objects read tolerantly (`--tolerate-closed-objects`),
/// each type read on its own stays tolerant.
#[test]
fn a_union_tells_its_alternatives_apart_by_enum_and_closed_objects() {
    use gencheck::union_exact_tolerated::{Hook, IssueClosed, Public};
    let read = |v: Value| serde_json::from_value::<Hook>(v).map_err(|e| e.to_string());
    assert!(matches!(read(json!({"action": "opened", "number": 1})).unwrap(), Hook::IssueOpened(_)));
    assert!(matches!(read(json!({"action": "closed", "number": 2})).unwrap(), Hook::IssueClosed(_)));
    assert!(matches!(read(json!({"repository": "r", "ref": "main"})).unwrap(), Hook::Push(_)));
    assert!(matches!(read(json!({"repository": "r"})).unwrap(), Hook::Public(_)));
    // No alternative reads it exactly: read tolerantly, the one that takes
    // it keeps the unknown property and writes it back.
    let wire = json!({"repository": "r", "forks": 3});
    let hook = read(wire.clone()).unwrap();
    assert!(matches!(&hook, Hook::Public(p) if p.additional_properties.contains_key("forks")));
    assert_eq!(serde_json::to_value(&hook).unwrap(), wire);
    // An action neither lists: an `enum` of one value is a `const`, so
    // neither issue alternative takes it, even tolerantly (once both did,
    // and a lone one would have turned it into its own event).
    let err = read(json!({"action": "reopened", "number": 3})).unwrap_err();
    assert!(err.contains("matches no alternative of `oneOf`"), "{err}");
    assert!(err.contains("`IssueOpened`: unknown variant `reopened`"), "{err}");
    assert!(err.contains("`IssueClosed`: unknown variant `reopened`"), "{err}");
    // A third action with a member neither names: still no alternative.
    let err = read(json!({"action": "reopened", "number": 3, "assignee": "a"})).unwrap_err();
    assert!(err.contains("`IssueOpened`: unknown variant `reopened`"), "{err}");
    // A member no alternative names, in the one alternative the value
    // belongs to: a newer minor of it, read tolerantly and written back.
    let wire = json!({"action": "opened", "number": 1, "labels": ["bug"]});
    let hook = read(wire.clone()).unwrap();
    assert!(matches!(&hook, Hook::IssueOpened(i) if i.additional_properties.contains_key("labels")));
    assert_eq!(serde_json::to_value(&hook).unwrap(), wire);
    // A member another alternative names is not what a newer minor adds:
    // `IssueOpened` would keep `repository`, which `Public` names.
    let err = read(json!({"action": "opened", "number": 1, "repository": "r"})).unwrap_err();
    assert!(
        err.contains("`IssueOpened`: read only tolerantly, it would keep property `repository` as unknown, which `Public` names"),
        "{err}"
    );
    // Nor a value of an `enum` that another alternative lists: `Label`
    // keeps unknown actions, but `opened` is `IssueOpened`'s (which refuses
    // the value: it lacks `number`).
    let err = read(json!({"action": "opened", "name": "bug"})).unwrap_err();
    assert!(
        err.contains("`Label`: read only tolerantly, it would keep `action: \"opened\"` as a value its `enum` does not list, which `IssueOpened` lists"),
        "{err}"
    );
    // An action no alternative lists, in the one alternative whose `enum`
    // has several values: a newer minor of it, read tolerantly.
    let label = read(json!({"action": "renamed", "name": "bug"})).unwrap();
    assert!(matches!(&label, Hook::Label(l) if l.action.as_ref() == "renamed"));
    // On their own, the types read tolerantly.
    let closed: IssueClosed = serde_json::from_value(json!({"action": "reopened", "number": 3, "x": 1})).unwrap();
    assert_eq!(closed.additional_properties.len(), 1);
    let public: Public = serde_json::from_value(json!({"repository": "r", "forks": 3})).unwrap();
    assert_eq!(public.additional_properties.len(), 1);
}

/// A closed alternative with `patternProperties` allows the members they
/// match: read exactly, `x_...` is not unknown to `ExtendedSetting`, so the
/// value is that alternative in the exact pass; a member no pattern
/// matches is still unknown, and refused there.
#[test]
fn a_closed_alternative_allows_what_its_pattern_properties_match() {
    use gencheck::union_exact_tolerated::{Setting, SettingExtendedSetting};
    let read = |v: Value| serde_json::from_value::<Setting>(v).map_err(|e| e.to_string());
    let before = event_runtime::wire::tolerant_reads();
    let wire = json!({"name": "retries", "x_a": 1, "x_b": 2});
    let setting = read(wire.clone()).unwrap();
    let Setting::ExtendedSetting(extended) = &setting else {
        panic!("{setting:?}");
    };
    assert_eq!(extended.additional_properties.len(), 2);
    assert_eq!(serde_json::to_value(&setting).unwrap(), wire);
    // Read as the schema says, not as a newer version of it.
    assert_eq!(event_runtime::wire::tolerant_reads(), before);
    assert!(matches!(read(json!({"name": "n", "value": "v"})).unwrap(), Setting::PlainSetting(_)));
    // The pattern's own schema still holds: `x_a` must be an integer.
    let err = read(json!({"name": "n", "x_a": "one"})).unwrap_err();
    assert!(err.contains("matches no alternative of `oneOf`"), "{err}");
    // A member no pattern matches is unknown to the closed alternative:
    // refused in the exact pass, so the value is read only tolerantly,
    // the member kept.
    let before = event_runtime::wire::tolerant_reads();
    let setting = read(json!({"name": "n", "x_a": 1, "y": 1})).unwrap();
    assert!(matches!(&setting, Setting::ExtendedSetting(e) if e.additional_properties.contains_key("y")));
    assert_eq!(event_runtime::wire::tolerant_reads(), before + 1);
    // On its own the type reads tolerantly, as every closed type does.
    let alone: SettingExtendedSetting = serde_json::from_value(json!({"name": "n", "y": 1})).unwrap();
    assert_eq!(alone.additional_properties.len(), 1);
}

/// By default a closed object is closed wherever it is read: in a union
/// a member it does not name or match rules its alternative out in both
/// passes, and on its own the decode refuses it at the member.
#[test]
fn a_closed_object_refuses_what_it_does_not_allow() {
    use gencheck::union_exact::{Hook, IssueClosed, Public, Setting, SettingExtendedSetting};
    let read = |v: Value| serde_json::from_value::<Hook>(v).map_err(|e| e.to_string());
    assert!(matches!(read(json!({"repository": "r"})).unwrap(), Hook::Public(_)));
    for wire in [
        json!({"repository": "r", "forks": 3}),
        json!({"action": "opened", "number": 1, "labels": ["bug"]}),
    ] {
        let err = read(wire.clone()).unwrap_err();
        assert!(err.contains("matches no alternative of `oneOf`"), "{wire}: {err}");
    }
    let err = serde_json::from_value::<Public>(json!({"repository": "r", "forks": 3})).unwrap_err();
    assert!(err.to_string().contains("forks: is not a property the schema names"), "{err}");
    let err = serde_json::from_value::<IssueClosed>(json!({"action": "closed", "number": 3, "x": 1})).unwrap_err();
    assert!(err.to_string().contains("x: is not a property"), "{err}");
    // What `patternProperties` match is allowed, kept and written back.
    let wire = json!({"name": "retries", "x_a": 1, "x_b": 2});
    let setting = serde_json::from_value::<Setting>(wire.clone()).unwrap();
    assert!(matches!(&setting, Setting::ExtendedSetting(e) if e.additional_properties.len() == 2));
    assert_eq!(serde_json::to_value(&setting).unwrap(), wire);
    let alone: SettingExtendedSetting = serde_json::from_value(json!({"name": "n", "x_c": 3})).unwrap();
    assert_eq!(alone.additional_properties.len(), 1);
    let err = serde_json::from_value::<SettingExtendedSetting>(json!({"name": "n", "y": 1})).unwrap_err();
    assert!(err.to_string().contains("y: is not a property the schema names or its `patternProperties` match"), "{err}");
    assert!(serde_json::from_value::<Setting>(json!({"name": "n", "x_a": 1, "y": 1})).is_err());
}

/// JSON Schema's `integer` is a number with no fractional part: `3.0` is
/// the integer 3 in every shape a generated type holds one (field, bounded
/// field, nullable, array, map, union variant, newtype), and is written
/// back as `3`; `3.5` is no integer.
#[test]
fn a_whole_number_written_with_a_fraction_is_an_integer() {
    use gencheck::integers::{Counts, Level, Size};
    let text = r#"{"total": 3.0, "small": 9.0, "previous": -2.0, "pages": [0, 1.0, 2e0],
        "byName": {"a": 4.0}, "size": 7.0, "nothing": null}"#;
    let c: Counts = serde_json::from_str(text).unwrap();
    assert_eq!(c.total, 3);
    assert_eq!(c.small, Some(9));
    assert_eq!(c.previous, Some(Some(-2)));
    assert_eq!(c.pages.as_deref(), Some(&[0, 1, 2][..]));
    assert_eq!(c.by_name.as_ref().unwrap()["a"], 4);
    assert_eq!(c.size, Some(Size::Integer(7)));
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"total": 3, "small": 9, "previous": -2, "pages": [0, 1, 2],
               "byName": {"a": 4}, "size": 7, "nothing": null})
    );
    assert_eq!(serde_json::from_str::<Level>("5.0").unwrap(), Level(5));
    // The bounds still apply, and a fraction is refused wherever it is.
    assert!(serde_json::from_str::<Level>("6.0").is_err());
    for bad in [
        r#"{"total": 3.5, "nothing": null}"#,
        r#"{"total": 1, "small": 10.0, "nothing": null}"#,
        r#"{"total": 1, "pages": [1, 1.5], "nothing": null}"#,
        r#"{"total": 1, "byName": {"a": 0.5}, "nothing": null}"#,
        r#"{"total": 1e300, "nothing": null}"#,
    ] {
        assert!(serde_json::from_str::<Counts>(bad).is_err(), "{bad}");
    }
    assert!(serde_json::from_str::<Level>("2.5").is_err());
    // `7.5` is neither an integer nor a string.
    assert!(serde_json::from_str::<Size>("7.5").is_err());
    // Read from a `Value` too, as a union reads its alternatives.
    let c: Counts = serde_json::from_value(json!({"total": 3.0, "nothing": null})).unwrap();
    assert_eq!(c.total, 3);
}

/// A required `{"type": "null"}` property must be there: its only value is
/// `null`, and a missing one is refused.
#[test]
fn a_required_null_property_must_be_present() {
    use gencheck::integers::Counts;
    assert!(serde_json::from_str::<Counts>(r#"{"total": 1, "nothing": null}"#).is_ok());
    let err = serde_json::from_str::<Counts>(r#"{"total": 1}"#).unwrap_err();
    assert!(err.to_string().contains("nothing"), "{err}");
    assert!(serde_json::from_str::<Counts>(r#"{"total": 1, "nothing": 0}"#).is_err());
}
mod rules {
    //! Keywords without a typed form (`tests/golden/rules`): each is
    //! checked on decode and by `validate`, and the typed fields keep their
    //! types.
    use event_runtime::__private::serde::de::DeserializeOwned;
    use event_runtime::{Envelope, EventData};
    use gencheck::rules::{
        Bag, Billing, Closed, Distinct, Even, Headers, LapRecordedV1, LegacyDeps, NotEmpty, Pair,
        Point, Scores, Shipping,
    };
    use serde_json::{Value, json};

    fn accepts<T: DeserializeOwned + EventData>(value: &Value) -> bool {
        match serde_json::from_str::<T>(&value.to_string()) {
            Ok(v) => v.validate().is_ok(),
            Err(_) => false,
        }
    }

    fn check<T: DeserializeOwned + EventData>(ok: &[Value], bad: &[Value]) {
        for v in ok {
            assert!(accepts::<T>(v), "{} refused {v}", std::any::type_name::<T>());
        }
        for v in bad {
            assert!(!accepts::<T>(v), "{} accepted {v}", std::any::type_name::<T>());
        }
    }

    fn error<T: DeserializeOwned + std::fmt::Debug>(value: Value) -> String {
        serde_json::from_value::<T>(value).unwrap_err().to_string()
    }

    #[test]
    fn a_property_schema_false_must_be_absent_and_true_takes_anything() {
        check::<Closed>(
            &[json!({"id": "a"}), json!({"extra": [1, {"x": null}]}), json!({"other": 1})],
            &[json!({"legacy": 1}), json!({"id": "a", "legacy": null})],
        );
        assert!(error::<Closed>(json!({"legacy": 0})).contains("legacy: must be absent"));
        // Still a typed, lossless struct.
        let c: Closed = serde_json::from_value(json!({"id": "a", "extra": true, "x": 1})).unwrap();
        assert_eq!(c.id.as_deref(), Some("a"));
        assert_eq!(serde_json::to_value(&c).unwrap(), json!({"id": "a", "extra": true, "x": 1}));
    }

    #[test]
    fn pattern_and_additional_properties_type_the_members_no_field_names() {
        check::<Headers>(
            &[json!({"host": "h", "x-id": "1", "port": 80}), json!({})],
            &[json!({"x-id": ""}), json!({"x-id": 1}), json!({"port": "80"}), json!({"host": 1})],
        );
        assert!(error::<Headers>(json!({"port": "80"})).contains("port: must be of type integer"));
        let h: Headers = serde_json::from_value(json!({"host": "h", "port": 80})).unwrap();
        assert_eq!(h.host.as_deref(), Some("h"));
        assert_eq!(h.additional_properties.get("port"), Some(&json!(80)));
    }

    #[test]
    fn tuples_check_each_position_and_the_rest() {
        check::<Point>(
            &[json!([1, 2.5, "m"]), json!([1]), json!([])],
            &[json!([1, "2"]), json!([1, 2, "m", 4]), json!(["x"])],
        );
        assert!(error::<Point>(json!([1, 2, 3])).contains("[2]: must be of type string"));
        check::<Pair>(
            &[json!(["a", 1]), json!(["a", 1, true, false]), json!(["a"])],
            &[json!([1, 1]), json!(["a", "b"]), json!(["a", 1, 2])],
        );
    }

    #[test]
    fn multiple_of_unique_items_and_contains_are_enforced() {
        check::<Even>(&[json!(0), json!(-4), json!(10)], &[json!(3), json!(2.5)]);
        assert!(Even::new(7).is_err());
        check::<Distinct>(
            &[json!([10]), json!([1, 10, 11])],
            &[json!([]), json!([1, 2]), json!([10, 10]), json!([10, 11, 12])],
        );
    }

    #[test]
    fn property_counts_and_names_are_enforced() {
        check::<Bag>(
            &[json!({"a": 1}), json!({"a": 1, "b": 2})],
            &[json!({}), json!({"a": 1, "b": 2, "c": 3}), json!({"A": 1})],
        );
    }

    #[test]
    fn dependencies_are_enforced_in_both_spellings() {
        check::<Billing>(
            &[json!({}), json!({"card": "c", "address": "a"}), json!({"vat": "v", "address": "Main 1"})],
            &[json!({"card": "c"}), json!({"vat": "v"}), json!({"vat": "v", "address": "M1"})],
        );
        assert!(error::<Billing>(json!({"card": "c"})).contains("address: is required"));
        check::<LegacyDeps>(
            &[json!({"a": 5, "b": 1}), json!({"b": 9}), json!({"b": 1})],
            &[json!({"a": 1}), json!({"b": 2, "a": 6})],
        );
    }

    #[test]
    fn not_and_if_then_else_are_enforced() {
        check::<NotEmpty>(&[json!("x"), json!(0), json!([0])], &[json!(""), json!(null), json!([]), json!({})]);
        check::<Shipping>(
            &[
                json!({"country": "NL", "postcode": "1234 AB"}),
                json!({"country": "DE", "postcode": "10115"}),
                json!({"country": "DE"}),
            ],
            &[
                json!({"country": "NL"}),
                json!({"country": "NL", "postcode": "10115"}),
                json!({"country": "DE", "postcode": "12345678901"}),
            ],
        );
    }

    #[test]
    fn rules_on_typed_fields_keep_the_field_types() {
        let s: Scores = serde_json::from_value(json!({"step": 15, "marks": [10, 20], "mode": "on"})).unwrap();
        assert_eq!(s.step, Some(15));
        assert_eq!(s.marks.as_deref(), Some(&[10, 20][..]));
        check::<Scores>(
            &[json!({}), json!({"mode": "auto"})],
            &[json!({"step": 7}), json!({"marks": [10, 10]}), json!({"marks": [15]}), json!({"mode": "off"})],
        );
        assert!(error::<Scores>(json!({"marks": [10, 15]})).contains("marks[1]: must be a multiple of 10"));
        // A producer finds out before publishing.
        let mut s = s;
        s.step = Some(3);
        assert_eq!(s.validate().unwrap_err().path(), "step");
    }

    #[test]
    fn an_event_checks_the_rules_of_its_fields_on_decode() {
        let lap = |lap: Value, splits: Value| {
            super::envelope(
                "lap.recorded",
                "1.0",
                json!({"lap": lap, "splits": splits, "sector": [3, "chicane"]}),
            )
        };
        let e = Envelope::<LapRecordedV1>::from_json_str(&lap(json!(4), json!([31.5, 30.25]))).unwrap();
        assert_eq!(e.data().lap, 4);
        let err = Envelope::<LapRecordedV1>::from_json_str(&lap(json!(3), json!([31.5]))).unwrap_err();
        assert!(err.to_string().contains("lap"), "{err}");
        assert!(Envelope::<LapRecordedV1>::from_json_str(&lap(json!(4), json!([30.0, 30.0]))).is_err());
        let bad_sector = super::envelope("lap.recorded", "1.0", json!({"lap": 2, "splits": [], "sector": ["3"]}));
        assert!(Envelope::<LapRecordedV1>::from_json_str(&bad_sector).is_err());
    }
}

/// Shared files that are the schemas `true` and `false`, referred to from
/// an object's properties: `true` reads any JSON value and writes it back
/// unchanged, `false` reads none, so the property that refers to it must
/// be absent.
#[test]
fn files_that_are_the_schemas_true_and_false_are_types() {
    use gencheck::boolean_files::{Anything, Nothing, Parcel};
    for value in [json!(null), json!(3.5), json!("s"), json!([1, {"a": null}]), json!({"k": [true]})] {
        let read: Anything = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(read.0, value);
        assert_eq!(serde_json::to_value(&read).unwrap(), value);
        assert!(serde_json::from_value::<Nothing>(value.clone()).is_err(), "{value} was read");
        // A producer cannot make one either.
        assert!(Nothing::new(value).is_err());
    }
    let wire = json!({"label": "a", "contents": {"deep": [1, 2.5, null]}, "note": null, "x": 1});
    let parcel: Parcel = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(parcel.contents, json!({"deep": [1, 2.5, null]}));
    assert_eq!(parcel.note, Some(Value::Null));
    assert_eq!(serde_json::to_value(&parcel).unwrap(), wire);
    // `contents` is required, whatever its schema accepts.
    assert!(serde_json::from_value::<Parcel>(json!({"label": "a"})).is_err());
    let err = serde_json::from_value::<Parcel>(json!({"label": "a", "contents": 1, "legacy": 0}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("must be one of [], found 0"), "{err}");
}

/// An object with an `allOf` part that is the schema `false` accepts
/// nothing: what the other parts allow is refused on decode and by
/// `validate`.
#[test]
fn an_object_with_a_false_all_of_part_never_decodes() {
    use gencheck::allof_objects::{Discussion, RetiredDiscussion};
    let wire = json!({"number": 4, "category": {"name": "Q&A", "is_answerable": true}});
    serde_json::from_value::<Discussion>(wire.clone()).unwrap();
    let err = serde_json::from_value::<RetiredDiscussion>(wire).unwrap_err().to_string();
    assert!(err.contains("a part of `allOf` is `false`"), "{err}");
}

/// `allOf` intersecting an object property with another object schema
/// (`discussion.category` narrowed to `is_answerable: true`): the members
/// of both, each narrowed, `required` of both, closed as the first is.
#[test]
fn all_of_intersects_an_object_property_with_another_object() {
    use gencheck::allof_objects::{AnsweredDiscussion, Discussion};
    let read = |v: Value| serde_json::from_value::<AnsweredDiscussion>(v).map_err(|e| e.to_string());
    let answered = json!({
        "number": 4,
        "category": {
            "name": "Q&A",
            "is_answerable": true,
            "owner": {"login": "octo", "site_admin": false, "type": "User"}
        }
    });
    let typed = read(answered.clone()).unwrap();
    assert_eq!(typed.category.owner.login, "octo");
    assert!(!typed.category.owner.site_admin);
    assert_eq!(serde_json::to_value(&typed).unwrap(), answered);
    // What the shared discussion allows and the narrowing part does not.
    for (path, value) in [
        ("/category/is_answerable", Some(json!(false))),
        ("/category/owner", None),
        ("/category/owner/site_admin", None),
        ("/category/owner/login", Some(json!("a-long-login"))),
    ] {
        let mut wire = answered.clone();
        let (parent, key) = path.rsplit_once('/').unwrap();
        let object = wire.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        match &value {
            Some(v) => {
                object.insert(key.to_string(), v.clone());
            }
            None => {
                object.remove(key);
            }
        }
        assert!(read(wire.clone()).is_err(), "{path} = {value:?} was read");
        serde_json::from_value::<Discussion>(wire).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

mod non_null {
    //! An optional property of a shared definition whose schema does not
    //! allow `null` (`#[event(non_null)]`): missing stays missing, a
    //! present `null` goes to the property's type, which refuses it unless
    //! its schema accepts `null`; nothing is read as missing that was there.
    use gencheck::roots::Settings;
    use gencheck::rules::Closed;
    use serde_json::{Value, json};

    fn round_trip<T>(value: Value) -> Result<Value, String>
    where
        T: event_runtime::__private::serde::de::DeserializeOwned
            + event_runtime::__private::serde::Serialize,
    {
        let text = value.to_string();
        if let Some(error) = event_runtime::__private::check_data::<T>(&text) {
            return Err(error.to_string());
        }
        let read: T = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        Ok(serde_json::to_value(&read).unwrap())
    }

    #[test]
    fn a_null_the_schema_refuses_is_refused_at_its_property() {
        let err = round_trip::<Settings>(json!({"theme": null})).unwrap_err();
        assert!(err.contains("theme"), "{err}");
        assert!(err.contains("invalid type: null, expected a string"), "{err}");
        // `enum: ["low", 2]` and `const: true` do not list `null` either.
        for key in ["level", "on"] {
            let err = round_trip::<Settings>(json!({ key: null })).unwrap_err();
            assert!(err.contains(key), "{key}: {err}");
        }
        let err = round_trip::<Closed>(json!({"id": null})).unwrap_err();
        assert!(err.contains("id"), "{err}");
    }

    #[test]
    fn a_null_the_schema_accepts_is_kept_and_missing_stays_missing() {
        // `minimum: 1` with no `type` holds for numbers only: `null` passes.
        let limit = json!({"limit": null, "theme": "dark"});
        assert_eq!(round_trip::<Settings>(limit.clone()), Ok(limit));
        // A property schema `true` takes `null` as any other value.
        let extra = json!({"id": "a", "extra": null});
        assert_eq!(round_trip::<Closed>(extra.clone()), Ok(extra));
        assert_eq!(round_trip::<Settings>(json!({})), Ok(json!({})));
        assert_eq!(round_trip::<Closed>(json!({})), Ok(json!({})));
    }
}

mod third_party {
    //! A schema written as published configuration schemas are
    //! (`tests/golden/third-party`): each alternative of a union runs its
    //! keywords without a typed form when it is read, a value of several
    //! types checks each type by its keywords, and defaults the generator
    //! cannot apply leave the property an `Option`.
    use event_runtime::EventData;
    use gencheck::third_party::{Step, StepBranches, StepEnv};
    use serde_json::{Value, json};

    /// An object closed with no properties of its own is a map whose
    /// members are those its `patternProperties` allow, as a field, an item
    /// and a map value; what else it holds is refused, at the member.
    #[test]
    fn objects_closed_without_properties_hold_only_what_they_allow() {
        use gencheck::third_party::Flags;
        let read = |v: Value| -> Result<Flags, String> {
            let flags: Flags = serde_json::from_str(&v.to_string()).map_err(|e| e.to_string())?;
            flags.validate().map_err(|e| e.to_string())?;
            Ok(flags)
        };
        let ok = json!({"none": {}, "vendor": {"x-a": "b"}, "lists": [{}, {}]});
        assert_eq!(serde_json::to_value(read(ok.clone()).unwrap()).unwrap(), ok);
        for (bad, at) in [
            (json!({"none": {"a": 1}}), "none.a"),
            (json!({"vendor": {"y": "b"}}), "vendor.y"),
            (json!({"vendor": {"x-a": 1}}), "vendor.x-a"),
            (json!({"lists": [{}, {"b": 1}]}), "lists[1].b"),
        ] {
            let err = read(bad.clone()).unwrap_err();
            assert!(err.contains(at), "{bad}: {err}");
        }
    }

    fn read(value: Value) -> Result<Step, String> {
        let step: Step = serde_json::from_str(&value.to_string()).map_err(|e| e.to_string())?;
        step.validate().map_err(|e| e.to_string())?;
        Ok(step)
    }

    #[test]
    fn an_alternative_is_read_only_when_its_rules_hold() {
        let one = read(json!({"branches": "main"})).unwrap();
        assert!(matches!(one.branches, Some(StepBranches::String(ref s)) if s == "main"));
        let many = read(json!({"branches": ["main", "dev"]})).unwrap();
        assert!(matches!(many.branches, Some(StepBranches::Array(ref v)) if v.0.len() == 2));
        // `uniqueItems`: the array alternative refuses repeats, and the
        // string alternative an array, so no alternative reads it.
        assert!(read(json!({"branches": ["main", "main"]})).is_err());
        assert!(read(json!({"branches": ""})).is_err());
        // `propertyNames` and `maxProperties` on the object alternative.
        let env = read(json!({"env": {"path": "/bin"}})).unwrap();
        assert!(matches!(env.env, Some(StepEnv::Object(_))));
        assert!(read(json!({"env": {"PATH": "/bin"}})).is_err());
        assert!(read(json!({"env": {"a": "1", "b": "2", "c": "3", "d": "4"}})).is_err());
        assert!(read(json!({"env": ["A=1"]})).is_ok());
        assert!(read(json!({"env": ["A"]})).is_err());
        // Written back unchanged.
        let text = json!({"branches": ["main", "dev"], "env": {"path": "/bin"}});
        let step = read(text.clone()).unwrap();
        assert_eq!(serde_json::to_value(&step).unwrap(), text);
    }

    #[test]
    fn a_value_of_several_types_checks_each_type_by_its_keywords() {
        for ok in [json!(30), json!("5m"), json!(false)] {
            let step = read(json!({"timeout": ok})).unwrap();
            assert_eq!(serde_json::to_value(&step).unwrap(), json!({"timeout": ok}));
        }
        for bad in [json!(0), json!("soon"), json!(1.5), json!(null), json!([])] {
            assert!(read(json!({"timeout": bad})).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_union_in_an_all_of_of_values_is_checked_whole() {
        for ok in [json!(80), json!("8080")] {
            assert!(read(json!({"port": ok})).is_ok(), "{ok}");
        }
        for bad in [json!(0), json!("80a"), json!("123456"), json!(true)] {
            assert!(read(json!({"port": bad})).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_constraints_of_a_maps_values_are_its_rules() {
        let step = read(json!({"variables": {"A": "1"}})).unwrap();
        assert_eq!(step.variables.unwrap()["A"], "1");
        let err = read(json!({"variables": {"A": "1", "B": ""}})).unwrap_err();
        assert!(err.contains("variables.B"), "{err}");
    }

    #[test]
    fn the_constraints_of_an_inner_arrays_items_are_rules_of_the_outer() {
        let step = read(json!({"path": [[1, 2], [0.5, 3, 4]]})).unwrap();
        assert_eq!(step.path.unwrap()[1], vec![0.5, 3.0, 4.0]);
        assert!(read(json!({"path": [[1, 2], [1]]})).unwrap_err().contains("path[1]"));
        assert!(read(json!({"path": [[1, -2]]})).unwrap_err().contains("path[0][1]"));
    }

    #[test]
    fn a_definition_the_type_cannot_narrow_to_is_checked_beside_it() {
        use gencheck::third_party::Layered;
        let read = |v: Value| -> Result<Layered, String> {
            let l: Layered = serde_json::from_str(&v.to_string()).map_err(|e| e.to_string())?;
            l.validate().map_err(|e| e.to_string())?;
            Ok(l)
        };
        let ok = json!({"mode": "fast", "level": 2, "tags": ["abc"]});
        assert_eq!(serde_json::to_value(read(ok.clone()).unwrap()).unwrap(), ok);
        assert!(read(json!({"level": "high"})).is_ok());
        // Each part's rule holds on its own.
        for bad in [
            json!({"mode": "Fast"}),
            json!({"mode": "medium"}),
            json!({"level": 0}),
            json!({"level": "low"}),
            json!({"tags": ["abcd"]}),
        ] {
            assert!(read(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn unevaluated_properties_in_a_rule_closes_over_what_its_schema_evaluates() {
        use gencheck::third_party::Services;
        let read = |v: Value| -> Result<Services, String> {
            let s: Services = serde_json::from_str(&v.to_string()).map_err(|e| e.to_string())?;
            s.validate().map_err(|e| e.to_string())?;
            Ok(s)
        };
        // `image` and `x-*` from the `allOf` part, `scale` beside it.
        let ok = json!({"services": {"web": {"image": "nginx", "scale": 2, "x-team": "a"}}});
        assert_eq!(serde_json::to_value(read(ok.clone()).unwrap()).unwrap(), ok);
        let err = read(json!({"services": {"web": {"image": "nginx", "ports": []}}})).unwrap_err();
        assert!(err.contains("services.web.ports"), "{err}");
        // `not: {unevaluatedProperties: false}`: a schema that evaluates no
        // member refuses every member, so `not` of it needs one.
        assert!(read(json!({"labels": {"kind": "a"}})).is_ok());
        assert!(read(json!({"labels": {}})).is_err());
    }

    #[test]
    fn object_keywords_beside_a_union_leave_its_array_alternative_an_array() {
        for ok in [json!([["a", "b"]]), json!([{"when": "always"}]), json!([])] {
            let step = read(json!({"rules": ok})).unwrap();
            assert_eq!(serde_json::to_value(&step).unwrap(), json!({"rules": ok}));
        }
        // A member the closed object alternative does not name: no
        // alternative allows it.
        for bad in [json!([[1]]), json!([{"when": 1}]), json!(["a"]), json!([{"other": 1}])] {
            assert!(read(json!({"rules": bad})).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_that_are_not_applied_leave_the_property_missing() {
        let step = read(json!({})).unwrap();
        assert_eq!(step.retries, None);
        assert!(step.state.is_none());
        assert_eq!(serde_json::to_value(&step).unwrap(), json!({}));
        // `minLength` on an array has no effect, nor do `properties` and
        // `required`: the value is an array.
        assert!(read(json!({"labels": []})).is_ok());
        let step = read(json!({"hosts": ["a", "b"]})).unwrap();
        assert_eq!(step.hosts.as_deref(), Some(&["a".to_string(), "b".to_string()][..]));
        assert!(read(json!({"hosts": {"name": "a"}})).is_err());
    }

    /// Alternatives that share a tag value (`build-base: bare`) are an
    /// untagged union: each is read by all its members, so both `bare`
    /// alternatives decode, and `oneOf` still refuses a value two read.
    #[test]
    fn alternatives_that_share_a_tag_value_are_told_apart_by_their_members() {
        use gencheck::third_party::{Snap, SnapBase};
        let read = |value: Value| -> Result<Snap, String> {
            let snap: Snap =
                serde_json::from_str(&value.to_string()).map_err(|e| e.to_string())?;
            snap.validate().map_err(|e| e.to_string())?;
            Ok(snap)
        };
        let first = read(json!({"base": {"build-base": "bare", "base": "core"}})).unwrap();
        assert!(matches!(first.base, Some(SnapBase::SnapBaseVariant1(_))));
        let second = read(json!({"base": {"build-base": "bare", "grade": "stable"}})).unwrap();
        assert!(matches!(second.base, Some(SnapBase::SnapBaseVariant2(_))));
        let third = read(json!({"base": {"build-base": "core22"}})).unwrap();
        assert!(matches!(third.base, Some(SnapBase::SnapBaseVariant3(_))));
        let input = json!({"base": {"build-base": "bare", "grade": "stable"}});
        assert_eq!(serde_json::to_value(read(input.clone()).unwrap()).unwrap(), input);
        assert!(read(json!({"base": {"build-base": "core22", "grade": "x"}})).is_err());
        // A union of one alternative checks its constraint.
        assert!(read(json!({"extends": "x"})).is_ok());
        assert!(read(json!({"extends": ""})).is_err());
        // Patterns on plain fields read as ECMA-262 reads them.
        assert!(read(json!({"label": "ecole_2"})).is_ok());
        assert!(read(json!({"label": "\u{e9}cole"})).is_err());
        assert!(read(json!({"separator": "\t"})).is_ok());
        assert!(read(json!({"separator": "I"})).is_err());
        // The default of a deprecated property, through its deprecated getter.
        #[allow(deprecated)]
        let inplace = read(json!({})).unwrap().inplace();
        assert!(inplace);
    }
}
