//! `#[derive(FromRow)]` for [actix-mysql](https://docs.rs/actix-mysql).
//!
//! Use it through the `actix_mysql` crate (feature `derive`, on by default), which re-exports it
//! next to the trait: `use actix_mysql::FromRow;`. The attributes are documented on
//! `actix_mysql::FromRow`.
//!
//! The generated code refers to the runtime crate as `::actix_mysql`, so the crate must be a
//! dependency under that name.
#![warn(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, Attribute, Data, DeriveInput, Fields, FieldsNamed, FieldsUnnamed, Ident,
    LitStr, Type,
};

/// The largest tuple struct supported: the largest tuple that implements `FromRow`.
const MAX_TUPLE: usize = 16;

/// Derives `actix_mysql::FromRow`.
///
/// A struct with named fields reads each field from the column of the same name; a tuple struct
/// reads its fields by position. Attributes (`#[mysql(...)]`):
///
/// * on the struct: `rename_all = "snake_case" | "camelCase" | "UPPERCASE" | "lowercase"`;
/// * on a field: `rename = "column"`, `default` (missing column gives `Default::default()`),
///   `skip` (never read, always `Default::default()`), `flatten` (the field implements
///   `FromRow` and is built from the same row).
///
/// The generated code refers to the runtime crate as `::actix_mysql`.
#[proc_macro_derive(FromRow, attributes(mysql))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let container = ContainerAttrs::parse(&input.attrs)?;
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(fields) => expand_named(input, &container, fields),
            Fields::Unnamed(fields) => expand_unnamed(input, &container, fields),
            Fields::Unit => Err(syn::Error::new_spanned(
                &input.ident,
                "FromRow cannot be derived for a unit struct: it has no fields to read from a row",
            )),
        },
        Data::Enum(e) => Err(syn::Error::new(
            e.enum_token.span,
            "FromRow can only be derived for structs, not for enums",
        )),
        Data::Union(u) => Err(syn::Error::new(
            u.union_token.span,
            "FromRow can only be derived for structs, not for unions",
        )),
    }
}

/// How `rename_all` turns a field name into a column name.
#[derive(Clone, Copy)]
enum RenameRule {
    Snake,
    Camel,
    Upper,
    Lower,
}

impl RenameRule {
    const NAMES: &'static str = r#""snake_case", "camelCase", "UPPERCASE" or "lowercase""#;

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "snake_case" => RenameRule::Snake,
            "camelCase" => RenameRule::Camel,
            "UPPERCASE" => RenameRule::Upper,
            "lowercase" => RenameRule::Lower,
            _ => return None,
        })
    }

    /// Applies the rule to a field name, which is expected in snake_case.
    fn apply(self, field: &str) -> String {
        match self {
            RenameRule::Snake => field.to_owned(),
            RenameRule::Upper => field.to_ascii_uppercase(),
            RenameRule::Lower => field.to_ascii_lowercase(),
            RenameRule::Camel => {
                let mut out = String::with_capacity(field.len());
                let mut upper_next = false;
                for c in field.chars() {
                    if c == '_' && !out.is_empty() {
                        upper_next = true;
                    } else if upper_next {
                        out.push(c.to_ascii_uppercase());
                        upper_next = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

/// `#[mysql(...)]` on the struct.
#[derive(Default)]
struct ContainerAttrs {
    rename_all: Option<(RenameRule, Span)>,
}

impl ContainerAttrs {
    fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = ContainerAttrs::default();
        for attr in mysql_attrs(attrs) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    if out.rename_all.is_some() {
                        return Err(meta.error("duplicate `rename_all`"));
                    }
                    let lit: LitStr = meta.value()?.parse()?;
                    let rule = RenameRule::from_name(&lit.value()).ok_or_else(|| {
                        syn::Error::new_spanned(
                            &lit,
                            format!("unknown `rename_all` rule; expected {}", RenameRule::NAMES),
                        )
                    })?;
                    out.rename_all = Some((rule, lit.span()));
                    Ok(())
                } else {
                    Err(meta.error(
                        "unknown `mysql` attribute on a struct; expected `rename_all = \"...\"`",
                    ))
                }
            })?;
        }
        Ok(out)
    }
}

/// `#[mysql(...)]` on a field.
#[derive(Default)]
struct FieldAttrs {
    rename: Option<LitStr>,
    default: Option<Span>,
    skip: Option<Span>,
    flatten: Option<Span>,
}

impl FieldAttrs {
    fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = FieldAttrs::default();
        for attr in mysql_attrs(attrs) {
            attr.parse_nested_meta(|meta| {
                let flag = |slot: &mut Option<Span>, name: &str| {
                    if slot.is_some() {
                        return Err(meta.error(format!("duplicate `{name}`")));
                    }
                    *slot = Some(meta.path.span());
                    Ok(())
                };
                if meta.path.is_ident("rename") {
                    if out.rename.is_some() {
                        return Err(meta.error("duplicate `rename`"));
                    }
                    let lit: LitStr = meta.value()?.parse()?;
                    if lit.value().is_empty() {
                        return Err(syn::Error::new_spanned(lit, "empty column name"));
                    }
                    out.rename = Some(lit);
                    Ok(())
                } else if meta.path.is_ident("default") {
                    flag(&mut out.default, "default")
                } else if meta.path.is_ident("skip") {
                    flag(&mut out.skip, "skip")
                } else if meta.path.is_ident("flatten") {
                    flag(&mut out.flatten, "flatten")
                } else {
                    Err(meta.error(
                        "unknown `mysql` attribute on a field; expected `rename = \"...\"`, \
                         `default`, `skip` or `flatten`",
                    ))
                }
            })?;
        }
        if let Some(span) = out.skip {
            if out.rename.is_some() || out.default.is_some() || out.flatten.is_some() {
                return Err(syn::Error::new(
                    span,
                    "`skip` cannot be combined with `rename`, `default` or `flatten`",
                ));
            }
        }
        if let Some(span) = out.flatten {
            if out.rename.is_some() || out.default.is_some() {
                return Err(syn::Error::new(
                    span,
                    "`flatten` cannot be combined with `rename` or `default`",
                ));
            }
        }
        Ok(out)
    }

    fn is_empty(&self) -> bool {
        self.rename.is_none()
            && self.default.is_none()
            && self.skip.is_none()
            && self.flatten.is_none()
    }
}

fn mysql_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("mysql"))
}

/// The field name as written, without a raw identifier's `r#`.
fn field_name(ident: &Ident) -> String {
    let s = ident.to_string();
    match s.strip_prefix("r#") {
        Some(raw) => raw.to_owned(),
        None => s,
    }
}

/// Collects errors so that all of them are reported at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

fn expand_named(
    input: &DeriveInput,
    container: &ContainerAttrs,
    fields: &FieldsNamed,
) -> syn::Result<TokenStream2> {
    let mut errors = Errors::default();
    let mut inits = Vec::new();
    let mut bounds = Vec::new();
    for field in &fields.named {
        let attrs = match FieldAttrs::parse(&field.attrs) {
            Ok(a) => a,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let ident = field.ident.as_ref().expect("named field");
        let ty = &field.ty;
        let span = ty.span();
        let column = match (&attrs.rename, container.rename_all) {
            (Some(lit), _) => lit.value(),
            (None, Some((rule, _))) => rule.apply(&field_name(ident)),
            (None, None) => field_name(ident),
        };
        let expr = if attrs.skip.is_some() {
            bounds.push(quote_spanned!(span=> #ty: ::core::default::Default));
            quote_spanned!(span=> ::core::default::Default::default())
        } else if attrs.flatten.is_some() {
            bounds.push(quote_spanned!(span=> #ty: ::actix_mysql::FromRow));
            quote_spanned!(span=>
                <#ty as ::actix_mysql::FromRow>::from_row(::core::clone::Clone::clone(&__row))?
            )
        } else if attrs.default.is_some() {
            bounds.push(quote_spanned!(span=> #ty: ::actix_mysql::FromValue));
            bounds.push(quote_spanned!(span=> #ty: ::core::default::Default));
            quote_spanned!(span=>
                if ::core::option::Option::is_some(&::actix_mysql::ColumnIndex::index_in(
                    #column,
                    ::actix_mysql::Row::columns(&__row),
                )) {
                    ::actix_mysql::Row::try_get::<#ty>(&__row, #column)?
                } else {
                    ::core::default::Default::default()
                }
            )
        } else {
            bounds.push(quote_spanned!(span=> #ty: ::actix_mysql::FromValue));
            quote_spanned!(span=> ::actix_mysql::Row::try_get::<#ty>(&__row, #column)?)
        };
        inits.push(quote!(#ident: #expr));
    }
    errors.finish()?;
    Ok(implement(input, &bounds, quote!(Self { #(#inits,)* })))
}

fn expand_unnamed(
    input: &DeriveInput,
    container: &ContainerAttrs,
    fields: &FieldsUnnamed,
) -> syn::Result<TokenStream2> {
    if let Some((_, span)) = container.rename_all {
        return Err(syn::Error::new(
            span,
            "`rename_all` has no effect on a tuple struct: its fields are read by position",
        ));
    }
    let mut errors = Errors::default();
    for field in &fields.unnamed {
        match FieldAttrs::parse(&field.attrs) {
            Ok(attrs) if !attrs.is_empty() => errors.push(syn::Error::new_spanned(
                mysql_attrs(&field.attrs).next().expect("attribute"),
                "`mysql` field attributes are only supported on structs with named fields; \
                 the fields of a tuple struct are read by position",
            )),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    errors.finish()?;
    let n = fields.unnamed.len();
    if n > MAX_TUPLE {
        return Err(syn::Error::new_spanned(
            fields,
            format!(
                "FromRow supports tuple structs of at most {MAX_TUPLE} fields, this one has {n}"
            ),
        ));
    }
    let types: Vec<&Type> = fields.unnamed.iter().map(|f| &f.ty).collect();
    let vars: Vec<Ident> = (0..n)
        .map(|i| Ident::new(&format!("__f{i}"), Span::call_site()))
        .collect();
    let bounds: Vec<TokenStream2> = types
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> #ty: ::actix_mysql::FromValue))
        .collect();
    let body = quote! {{
        let (#(#vars,)*) = <(#(#types,)*) as ::actix_mysql::FromRow>::from_row(__row)?;
        Self(#(#vars),*)
    }};
    Ok(implement(input, &bounds, body))
}

/// The impl block; `construct` builds `Self` from `__row`, using `?` for errors. `bounds` are
/// added to the where clause of a generic struct.
fn implement(
    input: &DeriveInput,
    bounds: &[TokenStream2],
    construct: TokenStream2,
) -> TokenStream2 {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let generic = input.generics.type_params().next().is_some();
    let where_clause = match (where_clause, generic) {
        (Some(w), true) => {
            let existing = w.predicates.iter();
            quote!(where #(#existing,)* #(#bounds,)*)
        }
        (None, true) => quote!(where #(#bounds,)*),
        (w, false) => quote!(#w),
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::actix_mysql::FromRow for #name #ty_generics #where_clause {
            fn from_row(
                __row: ::actix_mysql::Row,
            ) -> ::core::result::Result<Self, ::actix_mysql::Error> {
                ::core::result::Result::Ok(#construct)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules() {
        let cases = [
            (RenameRule::Snake, "user_name", "user_name"),
            (RenameRule::Camel, "user_name", "userName"),
            (RenameRule::Camel, "id", "id"),
            (RenameRule::Camel, "a_b_c2", "aBC2"),
            (RenameRule::Camel, "_private_x", "_privateX"),
            (RenameRule::Upper, "user_name", "USER_NAME"),
            (RenameRule::Lower, "User_Name", "user_name"),
        ];
        for (rule, field, column) in cases {
            assert_eq!(rule.apply(field), column);
        }
        assert!(RenameRule::from_name("PascalCase").is_none());
    }

    fn expand_str(src: &str) -> syn::Result<String> {
        let input: DeriveInput = syn::parse_str(src)?;
        expand(&input).map(|t| t.to_string())
    }

    fn error_of(src: &str) -> String {
        expand_str(src).unwrap_err().to_string()
    }

    #[test]
    fn named_fields_read_columns() {
        let out = expand_str(
            r#"#[mysql(rename_all = "camelCase")]
            struct U { user_id: u64, #[mysql(rename = "mail")] email: String,
                       #[mysql(default)] r#type: Option<String>, #[mysql(skip)] cache: Vec<u8> }"#,
        )
        .unwrap();
        assert!(out.contains("\"userId\""), "{out}");
        assert!(out.contains("\"mail\""), "{out}");
        assert!(out.contains("\"type\""), "{out}");
        assert!(!out.contains("\"cache\""), "{out}");
    }

    #[test]
    fn rejects_what_it_cannot_derive() {
        assert!(error_of("enum E { A }").contains("not for enums"));
        assert!(error_of("union U { a: u32 }").contains("not for unions"));
        assert!(error_of("struct S;").contains("unit struct"));
        assert!(error_of("struct S { #[mysql(renamed = \"x\")] a: u8 }")
            .contains("unknown `mysql` attribute on a field"));
        assert!(error_of("#[mysql(case = \"x\")] struct S { a: u8 }")
            .contains("unknown `mysql` attribute on a struct"));
        assert!(
            error_of("#[mysql(rename_all = \"kebab-case\")] struct S { a: u8 }")
                .contains("unknown `rename_all` rule")
        );
        assert!(
            error_of("struct S { #[mysql(skip, rename = \"x\")] a: u8 }")
                .contains("`skip` cannot be combined")
        );
        assert!(error_of("struct S { #[mysql(flatten, default)] a: u8 }")
            .contains("`flatten` cannot be combined"));
        assert!(error_of("struct S { #[mysql(default, default)] a: u8 }")
            .contains("duplicate `default`"));
        assert!(error_of("struct S(#[mysql(default)] u8);").contains("named fields"));
        assert!(
            error_of("#[mysql(rename_all = \"lowercase\")] struct S(u8);").contains("tuple struct")
        );
        let wide = format!("struct S({});", vec!["u8"; 17].join(", "));
        assert!(error_of(&wide).contains("at most 16 fields"));
    }
}
