//! How the generated code for the awkward fixtures behaves: keyword fields,
//! collisions, nullable fields, string enums, unions, recursion, params,
//! errors, records and bodies.

use atlex::data::{LexType, Record, RecordKeyKind, Unknown};
use atlex::xrpc::{Endpoint, EndpointError, Params, ParamsError, QueryReader, QueryWriter};
use atlex_golden::awkward::com::example::awkward::{
    export, get_thing, names, other, self_, subscribe, subscribe_json, r#type, upload,
};
use serde_json::{Value, json};

fn round_trip<T>(value: Value) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let decoded: T =
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("decoding {value}: {e}"));
    let encoded = serde_json::to_value(&decoded).unwrap();
    assert_eq!(encoded, value, "re-encoding {decoded:?}");
    decoded
}

fn minimal() -> Value {
    json!({ "type": "t", "self": "s", "ref": "r" })
}

#[test]
fn keyword_and_colliding_fields_keep_their_json_names() {
    let mut value = minimal();
    let extra = json!({
        "Self": "S", "async": 1, "crate": true, "3d": false,
        "fooBar": "camel", "foo_bar": "snake",
    });
    for (k, v) in extra.as_object().unwrap() {
        value[k] = v.clone();
    }
    let n: names::Names = round_trip(value);
    assert_eq!(n.r#type, "t");
    assert_eq!(n.self_, "s");
    assert_eq!(n.self_2.as_deref(), Some("S"));
    assert_eq!(n.r#ref, "r");
    assert_eq!(n.r#async, Some(1));
    assert_eq!(n.crate_, Some(true));
    assert_eq!(n._3d, Some(false));
    assert_eq!(n.foo_bar.as_deref(), Some("camel"));
    assert_eq!(n.foo_bar_2.as_deref(), Some("snake"));
}

#[test]
fn required_fields_are_required() {
    let err =
        serde_json::from_value::<names::Names>(json!({ "type": "t", "self": "s" })).unwrap_err();
    assert!(err.to_string().contains("missing field `ref`"), "{err}");
}

#[test]
fn nullable_keeps_null_apart_from_absent() {
    let absent: names::Names = round_trip(minimal());
    assert_eq!(absent.maybe, None);
    let mut with_null = minimal();
    with_null["maybe"] = Value::Null;
    with_null["mustBeThere"] = Value::Null;
    let null: names::Names = round_trip(with_null);
    assert_eq!(null.maybe, Some(None));
    assert_eq!(null.must_be_there, Some(None));
    let mut with_value = minimal();
    with_value["maybe"] = json!("v");
    let value: names::Names = round_trip(with_value);
    assert_eq!(value.maybe, Some(Some("v".to_owned())));
}

#[test]
fn known_values_are_open_and_odd_values_get_names() {
    use names::NamesLabel as L;
    for (text, expected) in [
        ("", L::Empty),
        ("!hide", L::Hide),
        ("18+", L::V18),
        ("other", L::Other),
        ("Other", L::Other2),
        ("a-b", L::AB),
        ("a_b", L::AB2),
        ("com.example.awkward.names#tok", L::NamesTok),
        ("com.example.awkward.other#tok", L::OtherTok),
        ("brand-new", L::Unknown("brand-new".to_owned())),
    ] {
        let mut value = minimal();
        value["label"] = json!(text);
        let n: names::Names = round_trip(value);
        assert_eq!(n.label, Some(expected.clone()), "{text:?}");
        assert_eq!(expected.as_str(), text);
        assert_eq!(text.parse::<L>(), Ok(expected));
    }
    assert_eq!(L::VALUES.len(), 9);
}

#[test]
fn closed_enums_reject_other_values() {
    let mut value = minimal();
    value["size"] = json!("small");
    let n: names::Names = round_trip(value.clone());
    assert_eq!(n.size, Some(names::NamesSize::Small));
    value["size"] = json!("medium");
    let err = serde_json::from_value::<names::Names>(value).unwrap_err();
    assert!(err.to_string().contains("\"medium\""), "{err}");
    assert!(err.to_string().contains("small"), "{err}");
    assert!("medium".parse::<names::NamesSize>().is_err());
}

#[test]
fn defaults_apply_when_absent() {
    let n: names::Names = round_trip(minimal());
    assert_eq!(n.limit_or_default(), 5);
    assert!(n.flag_or_default());
    assert_eq!(n.mode_or_default(), names::NamesMode::Slow);
    assert_eq!(n.greeting_or_default(), "hello");
    let mut value = minimal();
    value["limit"] = json!(7);
    value["mode"] = json!("fast");
    let n: names::Names = round_trip(value);
    assert_eq!(n.limit_or_default(), 7);
    assert_eq!(n.mode_or_default(), names::NamesMode::Fast);
}

#[test]
fn union_members_by_local_and_external_reference() {
    let mut value = minimal();
    value["embed"] = json!({ "$type": "com.example.awkward.names#view", "id": "1" });
    let n: names::Names = round_trip(value.clone());
    assert!(matches!(&n.embed, Some(names::NamesEmbed::View(v)) if v.id == "1"));

    value["embed"] = json!({ "$type": "com.example.awkward.other#view" });
    let n: names::Names = round_trip(value.clone());
    assert!(matches!(n.embed, Some(names::NamesEmbed::OtherView(_))));

    value["embed"] = json!({ "$type": "com.example.awkward.other", "n": 3 });
    let n: names::Names = round_trip(value.clone());
    assert!(matches!(&n.embed, Some(names::NamesEmbed::Other(o)) if o.n == 3));

    // An unknown member of an open union keeps everything.
    let future = json!({ "$type": "com.example.future#thing", "x": [1, { "y": null }] });
    value["embed"] = future.clone();
    let n: names::Names = round_trip(value.clone());
    match n.embed {
        Some(names::NamesEmbed::Unknown(u)) => {
            assert_eq!(u.type_name(), Some("com.example.future#thing"));
            assert_eq!(u.as_value(), &future);
        }
        other => panic!("{other:?}"),
    }

    // A known member with bad content is an error naming member and field.
    value["embed"] = json!({ "$type": "com.example.awkward.other", "n": "three" });
    let err = serde_json::from_value::<names::Names>(value.clone()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("com.example.awkward.other") && text.contains(" at n"),
        "{text}"
    );

    // A member without $type is an error, not an unknown member.
    value["embed"] = json!({ "id": "1" });
    assert!(serde_json::from_value::<names::Names>(value).is_err());
}

#[test]
fn closed_unions_reject_unknown_members() {
    let mut value = minimal();
    value["pick"] = json!({ "$type": "com.example.awkward.names#self", "me": "x" });
    let n: names::Names = round_trip(value.clone());
    assert!(matches!(n.pick, Some(names::NamesPick::SelfDef(_))));
    value["pick"] = json!({ "$type": "com.example.awkward.names#other" });
    let err = serde_json::from_value::<names::Names>(value).unwrap_err();
    assert!(err.to_string().contains("closed union"), "{err}");
}

#[test]
fn prelude_named_definitions_and_recursion() {
    let mut value = minimal();
    value["result"] = json!({ "ok": true });
    value["options"] = json!([{ "value": "a" }, {}]);
    let n: names::Names = round_trip(value);
    assert!(n.result.unwrap().ok);
    assert_eq!(n.options.unwrap().len(), 2);
    let _: names::String = round_trip(json!({ "text": "x" }));

    // Direct and mutual recursion, through Box and Vec.
    let deep = json!({
        "value": 1,
        "next": { "value": 2, "partner": { "node": { "value": 3 } } },
        "children": [{ "value": 4, "children": [] }]
    });
    let node: names::Node = round_trip(deep);
    let next = node.next.as_deref().unwrap();
    assert_eq!(next.value, 2);
    let partner = next.partner.as_deref().unwrap();
    assert_eq!(partner.node.as_deref().unwrap().value, 3);
    let via_other: other::View = round_trip(json!({ "back": { "value": 9 } }));
    assert_eq!(via_other.back.unwrap().value, 9);
}

#[test]
fn tokens_and_lex_types() {
    assert_eq!(names::TOK, "com.example.awkward.names#tok");
    assert_eq!(names::NSID2, "com.example.awkward.names#nsid");
    assert_eq!(names::NSID, "com.example.awkward.names");
    assert_eq!(
        <names::View as LexType>::TYPE,
        "com.example.awkward.names#view"
    );
    assert_eq!(<names::Names as LexType>::TYPE, "com.example.awkward.names");
    assert_eq!(
        <self_::SelfDef as LexType>::TYPE,
        "com.example.awkward.self"
    );
    let _: names::Strings = vec!["did:plc:abc".parse().unwrap()];
}

#[test]
fn records_know_their_collection_and_key() {
    assert_eq!(<r#type::Type as Record>::NSID, "com.example.awkward.type");
    assert_eq!(
        <r#type::Type as Record>::KEY,
        RecordKeyKind::Literal("self")
    );
    assert!(RecordKeyKind::Literal("self").allows("self"));
    // A record is written with its $type, and read with or without it.
    let record: r#type::Type = round_trip(json!({
        "$type": "com.example.awkward.type",
        "createdAt": "2026-01-02T03:04:05.678Z",
        "self": { "nested": { "deep": { "$type": "com.example.awkward.names#view", "id": "x" } } }
    }));
    let without: r#type::Type = serde_json::from_value(json!({
        "createdAt": "2026-01-02T03:04:05.678Z",
        "self": { "nested": { "deep": { "$type": "com.example.awkward.names#view", "id": "x" } } }
    }))
    .unwrap();
    assert_eq!(without, record);
    let err = serde_json::from_value::<r#type::Type>(json!({
        "$type": "com.example.awkward.names#view",
        "createdAt": "2026-01-02T03:04:05.678Z"
    }))
    .unwrap_err();
    assert!(
        err.to_string().contains("com.example.awkward.names#view"),
        "{err}"
    );
    let unknown = Unknown::encode(&record).unwrap();
    assert_eq!(unknown.type_name(), Some("com.example.awkward.type"));
    assert_eq!(unknown.decode::<r#type::Type>().unwrap(), record);
    assert!(unknown.decode::<names::View>().is_err());
    // Formats are checked on decode.
    let err =
        serde_json::from_value::<r#type::Type>(json!({ "createdAt": "yesterday" })).unwrap_err();
    assert!(err.to_string().contains("datetime"), "{err}");
}

#[test]
fn params_encode_as_the_query_string_and_back() {
    let params = get_thing::Params::new("alice.example.com".parse().unwrap())
        .with_limit(10)
        .with_tags(vec!["a b".to_owned(), "c".to_owned()])
        .with_ids(vec![1, 2])
        .with_reverse(true)
        .with_sort(get_thing::ParamsSort::Old)
        .with_type(get_thing::ParamsType::B);
    let mut query = QueryWriter::new();
    params.write_query(&mut query);
    let text = query.to_query_string();
    assert_eq!(
        text,
        "actor=alice.example.com&limit=10&tags=a+b&tags=c&ids=1&ids=2&reverse=true&sort=old&type=b"
    );
    let back = get_thing::Params::read_query(&QueryReader::parse(&text)).unwrap();
    assert_eq!(back, params);
    assert_eq!(back.limit_or_default(), 10);

    let defaults = get_thing::Params::read_query(&QueryReader::parse("actor=did:plc:abc")).unwrap();
    assert_eq!(defaults.limit_or_default(), 50);
    assert!(!defaults.reverse_or_default());
    assert_eq!(defaults.sort_or_default(), get_thing::ParamsSort::New);

    let missing = get_thing::Params::read_query(&QueryReader::parse("limit=1"));
    assert!(matches!(missing, Err(ParamsError::Missing { name }) if name == "actor"));
    let bad = get_thing::Params::read_query(&QueryReader::parse("actor=a.com&ids=x"));
    assert!(matches!(bad, Err(ParamsError::Invalid { name, .. }) if name == "ids"));
    let closed = get_thing::Params::read_query(&QueryReader::parse("actor=a.com&type=c"));
    assert!(matches!(closed, Err(ParamsError::Invalid { name, .. }) if name == "type"));
}

#[test]
fn endpoint_errors_declared_and_unknown() {
    use get_thing::Error;
    assert_eq!(Error::DECLARED, &["Unknown", "Error", "not_found"]);
    let declared = Error::from_parts("Unknown".to_owned(), Some("m".to_owned()));
    assert_eq!(
        declared,
        Error::Unknown {
            message: Some("m".to_owned())
        }
    );
    assert_eq!(declared.name(), "Unknown");
    let snake = Error::from_parts("not_found".to_owned(), None);
    assert!(matches!(snake, Error::NotFound { message: None }));
    assert_eq!(snake.to_string(), "not_found");
    let other = Error::from_parts("Brand_New".to_owned(), Some("why".to_owned()));
    match &other {
        Error::Other(e) => {
            assert_eq!(e.error, "Brand_New");
            assert_eq!(e.message.as_deref(), Some("why"));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(other.to_string(), "Brand_New: why");
    let body: Error = round_trip(json!({ "error": "Error", "message": "x" }));
    assert!(matches!(body, Error::Error { .. }));
    let body: Error = round_trip(json!({ "error": "Mystery" }));
    assert_eq!(body.name(), "Mystery");
}

#[test]
fn endpoint_descriptors() {
    assert_eq!(get_thing::GetThing::NSID, "com.example.awkward.getThing");
    assert_eq!(get_thing::GetThing::KIND, atlex::xrpc::EndpointKind::Query);
    let output: <get_thing::GetThing as Endpoint>::Output = round_trip(json!({ "message": "hi" }));
    assert_eq!(output.message, "hi");
    let _: get_thing::ParamsDef = "x".into();

    assert_eq!(upload::Upload::INPUT_ENCODING, Some("*/*"));
    let input: <upload::Upload as Endpoint>::Input = atlex::xrpc::Binary::new("image/png", [1u8]);
    assert_eq!(input.data, vec![1]);
    let out: upload::Output = round_trip(json!({ "$type": "com.example.awkward.other", "n": 1 }));
    assert!(matches!(out, upload::Output::Other(_)));

    assert_eq!(export::Export::INPUT_ENCODING, None);
    assert_eq!(
        export::Export::OUTPUT_ENCODING,
        Some("application/vnd.ipld.car")
    );
    let _: <export::Export as Endpoint>::Input = ();
    assert!(<export::Export as Endpoint>::Error::DECLARED.is_empty());
}

#[test]
fn subscription_messages() {
    use atlex::xrpc::Subscription;
    assert_eq!(subscribe::Subscribe::NSID, "com.example.awkward.subscribe");
    let tick: <subscribe::Subscribe as Subscription>::Message =
        round_trip(json!({ "$type": "com.example.awkward.subscribe#tick", "seq": 5 }));
    assert!(matches!(tick, subscribe::Message::Tick(t) if t.seq == 5));
    let info: subscribe::Message = round_trip(
        json!({ "$type": "com.example.awkward.subscribe#info", "name": "OutdatedCursor" }),
    );
    assert!(matches!(info, subscribe::Message::Info(_)));
}

/// A lexicon's `subprotocol` is the descriptor's default; without one it is
/// `xrpc.v0.cbor`.
#[test]
fn subscriptions_carry_their_default_subprotocol() {
    use atlex::xrpc::{Subprotocol, Subscription};
    assert_eq!(subscribe::Subscribe::SUBPROTOCOL, Subprotocol::V0Cbor);
    assert_eq!(
        subscribe_json::SubscribeJson::SUBPROTOCOL,
        Subprotocol::V1Json
    );
}

/// A definition named as another's builder keeps its name; the builder
/// takes the one the generator chose.
#[test]
fn a_builder_gives_way_to_a_definition_of_its_name() {
    use atlex_golden::awkward::com::example::awkward::builder::{Pair, PairBuilder};
    let defined = PairBuilder::new().with_note("mine");
    assert_eq!(defined.note.as_deref(), Some("mine"));
    let pair = Pair::builder().right("r").left("l").build();
    assert_eq!((pair.left.as_str(), pair.right.as_str()), ("l", "r"));
}

#[test]
fn space_types_declare_their_constants() {
    use atlex_golden::awkward::com::example::awkward::forum;
    assert_eq!(forum::NSID, "com.example.awkward.forum");
    assert_eq!(forum::SPACE_KEY, "any");
    assert_eq!(forum::SPACE_NAME, "Awkward Forum");
    assert_eq!(
        forum::SPACE_NAME_LANG,
        &[("es", "Foro incómodo"), ("ja", "ぎこちない掲示板")]
    );
    assert_eq!(
        forum::SPACE_COLLECTIONS,
        &["com.example.awkward.thread", "com.example.awkward.reply"]
    );
}
