//! Queries, procedures and subscriptions: parameters, bodies and their
//! encodings, errors, and record keys.

use serde_json::{Value, json};

use super::scalars::mime_covers;
use super::{Ctx, Engine, def_name, draft, s};
use crate::diagnostics::pointer_push;
use crate::diff::model::{ChangeKind, Compat, Constraint, Flow, Impact};
use crate::lexicon::{
    BodySchema, EndpointSchema, ErrorSchema, ObjectSchema, Schema, SchemaKind, SubscriptionSchema,
};

impl Engine<'_> {
    pub(super) fn endpoint(&mut self, ctx: &Ctx, o: &EndpointSchema, n: &EndpointSchema) {
        self.parameters(ctx, o.parameters.as_deref(), n.parameters.as_deref());
        self.body(
            ctx,
            "input",
            Flow::Request,
            o.input.as_ref(),
            n.input.as_ref(),
        );
        self.body(
            ctx,
            "output",
            Flow::Response,
            o.output.as_ref(),
            n.output.as_ref(),
        );
        self.errors(ctx, &o.errors, &n.errors);
    }

    pub(super) fn subscription(
        &mut self,
        ctx: &Ctx,
        o: &SubscriptionSchema,
        n: &SubscriptionSchema,
    ) {
        self.parameters(ctx, o.parameters.as_deref(), n.parameters.as_deref());
        self.body(
            ctx,
            "message",
            Flow::Message,
            o.message.as_ref(),
            n.message.as_ref(),
        );
        self.errors(ctx, &o.errors, &n.errors);
        self.subprotocol(ctx, o.subprotocol.as_deref(), n.subprotocol.as_deref());
    }

    /// The default subprotocol: what a connection that negotiates none is
    /// sent. Absent is `xrpc.v0.cbor`, so writing that out changes nothing.
    fn subprotocol(&mut self, ctx: &Ctx, old: Option<&str>, new: Option<&str>) {
        const DEFAULT: &str = "xrpc.v0.cbor";
        let (old, new) = (old.unwrap_or(DEFAULT), new.unwrap_or(DEFAULT));
        if old == new {
            return;
        }
        let at = ctx.with_flow(Flow::Message);
        let pointer = format!("/defs/{}/subprotocol", def_name(&ctx.location));
        self.push(
            &at,
            &pointer,
            draft(
                ChangeKind::SubprotocolChanged,
                Compat::new(Impact::Breaking, Impact::Breaking),
                format!(
                    "a connection that negotiates no subprotocol is sent {new} frames instead \
                     of {old}: consumers that ask for none cannot read them, and servers \
                     built against the old lexicon send what updated consumers do not expect"
                ),
            )
            .values(Some(json!(old)), Some(json!(new))),
        );
    }

    /// Parameters: absent parameters compare as an empty `params`, so a
    /// first parameter is reported as a property added.
    pub(super) fn parameters(&mut self, ctx: &Ctx, old: Option<&Schema>, new: Option<&Schema>) {
        let at = ctx
            .at(format!("{}.parameters", ctx.location))
            .with_flow(Flow::Request);
        let empty = |pointer: &str| Schema {
            description: None,
            pointer: pointer.to_owned(),
            kind: SchemaKind::Params(ObjectSchema::default()),
        };
        let pointer = format!("/defs/{}/parameters", def_name(&ctx.location));
        match (old, new) {
            (None, None) => {}
            (Some(o), Some(n)) => self.schema(&at, o, n),
            (None, Some(n)) => self.schema(&at, &empty(&pointer), n),
            (Some(o), None) => self.schema(&at, o, &empty(&pointer)),
        }
    }

    pub(super) fn body(
        &mut self,
        ctx: &Ctx,
        part: &str,
        flow: Flow,
        old: Option<&BodySchema>,
        new: Option<&BodySchema>,
    ) {
        let at = ctx.at(format!("{}.{part}", ctx.location)).with_flow(flow);
        match (old, new) {
            (None, None) => {}
            (None, Some(n)) => self.push(
                &at,
                &n.pointer,
                draft(
                    ChangeKind::BodyAdded,
                    Compat::new(Impact::Tolerated, Impact::Breaking),
                    format!(
                        "a new `{part}`: old writers send none, which updated readers that expect \
                         it reject"
                    ),
                )
                .values(None, Some(body_value(n))),
            ),
            (Some(o), None) => {
                let pointer = o.pointer.clone();
                self.push(
                    &at,
                    &pointer,
                    draft(
                        ChangeKind::BodyRemoved,
                        Compat::new(Impact::Breaking, Impact::Tolerated),
                        format!(
                            "the `{part}` was removed: new writers send none, and old readers \
                             expect it"
                        ),
                    )
                    .values(Some(body_value(o)), None),
                );
            }
            (Some(o), Some(n)) => {
                self.description(
                    &at,
                    &n.pointer,
                    o.description.as_deref(),
                    n.description.as_deref(),
                );
                if !o.encoding.eq_ignore_ascii_case(&n.encoding) {
                    self.encoding(&at, &n.pointer, &o.encoding, &n.encoding);
                }
                match (&o.schema, &n.schema) {
                    (None, None) => {}
                    (None, Some(schema)) => self.push(
                        &at,
                        &schema.pointer,
                        draft(
                            ChangeKind::BodySchemaAdded,
                            Compat::new(Impact::None, Impact::Breaking),
                            "a schema for a body that had none: what old writers send need not \
                             fit it",
                        )
                        .values(None, s(schema.kind.type_name())),
                    ),
                    (Some(schema), None) => self.push(
                        &at,
                        &n.pointer,
                        draft(
                            ChangeKind::BodySchemaRemoved,
                            Compat::new(Impact::Breaking, Impact::None),
                            "the body's schema was dropped: new writers may send what old \
                             readers cannot decode",
                        )
                        .values(s(schema.kind.type_name()), None),
                    ),
                    (Some(os), Some(ns)) => self.schema(&at, os, ns),
                }
            }
        }
    }

    pub(super) fn encoding(&mut self, ctx: &Ctx, p: &str, old: &str, new: &str) {
        let pointer = pointer_push(p, "encoding");
        let d = if mime_covers(new, old) {
            draft(
                ChangeKind::ConstraintLoosened(Constraint::Encoding),
                Compat::new(Impact::Breaking, Impact::None),
                "the encoding widened: new writers may send content types old readers reject",
            )
        } else if mime_covers(old, new) {
            draft(
                ChangeKind::ConstraintTightened(Constraint::Encoding),
                Compat::new(Impact::None, Impact::Breaking),
                "the encoding narrowed: content types old writers send may be rejected by \
                 updated readers",
            )
        } else {
            draft(
                ChangeKind::ConstraintChanged(Constraint::Encoding),
                Compat::both(Impact::Breaking),
                "the encoding changed: neither side's content type is accepted by the other",
            )
        };
        self.push(ctx, &pointer, d.values(s(old), s(new)));
    }

    pub(super) fn errors(&mut self, ctx: &Ctx, old: &[ErrorSchema], new: &[ErrorSchema]) {
        let base = format!("/defs/{}/errors", def_name(&ctx.location));
        for (i, error) in new.iter().enumerate() {
            let at = ctx
                .at(format!("{}.errors.{}", ctx.location, error.name))
                .with_flow(Flow::Response);
            let pointer = pointer_push(&base, &i.to_string());
            match old.iter().find(|e| e.name == error.name) {
                Some(before) => self.description(
                    &at,
                    &pointer,
                    before.description.as_deref(),
                    error.description.as_deref(),
                ),
                None => self.push(
                    &at,
                    &pointer,
                    draft(
                        ChangeKind::ErrorAdded,
                        Compat::new(Impact::Tolerated, Impact::None),
                        "a new error name: old clients must accept error names they do not know \
                         (generated clients keep its name and message in their unknown-error \
                         case); old servers never send it",
                    )
                    .values(None, s(&error.name)),
                ),
            }
        }
        for (i, error) in old.iter().enumerate() {
            if new.iter().any(|e| e.name == error.name) {
                continue;
            }
            let at = ctx
                .at(format!("{}.errors.{}", ctx.location, error.name))
                .with_flow(Flow::Response);
            self.push(
                &at,
                &pointer_push(&base, &i.to_string()),
                draft(
                    ChangeKind::ErrorRemoved,
                    Compat::new(Impact::None, Impact::Tolerated),
                    "an error is no longer declared: old clients simply stop seeing it; if old \
                     servers still send it, updated clients keep it in their unknown-error case",
                )
                .values(s(&error.name), None),
            );
        }
    }

    pub(super) fn record_key(&mut self, ctx: &Ctx, p: &str, old: &str, new: &str) {
        let pointer = pointer_push(p, "key");
        let d = if new == "any" {
            draft(
                ChangeKind::ConstraintLoosened(Constraint::RecordKey),
                Compat::new(Impact::Breaking, Impact::None),
                "any record key is now allowed: records new writers create may have keys old \
                 readers reject",
            )
        } else if old == "any" {
            draft(
                ChangeKind::ConstraintTightened(Constraint::RecordKey),
                Compat::new(Impact::None, Impact::Breaking),
                "the record key narrowed: records old writers created may have keys updated \
                 readers reject",
            )
        } else {
            draft(
                ChangeKind::ConstraintChanged(Constraint::RecordKey),
                Compat::both(Impact::Breaking),
                "the record key changed: keys of either kind are invalid under the other",
            )
        };
        self.push(ctx, &pointer, d.values(s(old), s(new)));
    }
}

fn body_value(body: &BodySchema) -> Value {
    json!({
        "encoding": body.encoding,
        "schema": body.schema.as_ref().map(|s| s.kind.type_name()),
    })
}
