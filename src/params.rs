//! Statement parameters: the [`Params`] trait and the [`params!`](crate::params!) macro.

use crate::Value;

/// A list of statement parameters, in placeholder order.
///
/// Implemented for `()` (no parameters), `Vec<Value>`, `&[Value]`, `&Vec<Value>`, `Vec<T>` and `[T; N]` where
/// `T: Into<Value>`, and tuples of 1 to 12 elements that are each `Into<Value>`. The
/// [`params!`](crate::params!) macro builds a `Vec<Value>` from values of different types.
///
/// # Example
///
/// ```
/// use actix_mysql::{params, Params, Value};
///
/// assert_eq!(().into_values(), Vec::<Value>::new());
/// assert_eq!(
///     (1u8, "two", None::<i32>).into_values(),
///     vec![Value::UInt(1), Value::from("two"), Value::Null]
/// );
/// assert_eq!([1i64, 2].into_values(), vec![Value::Int(1), Value::Int(2)]);
/// assert_eq!(
///     params![42, "x", 1.5f64],
///     vec![Value::Int(42), Value::from("x"), Value::Double(1.5)]
/// );
/// ```
pub trait Params {
    /// The parameters as values.
    fn into_values(self) -> Vec<Value>;
}

impl Params for () {
    fn into_values(self) -> Vec<Value> {
        Vec::new()
    }
}

impl<T: Into<Value>> Params for Vec<T> {
    fn into_values(self) -> Vec<Value> {
        self.into_iter().map(Into::into).collect()
    }
}

impl Params for &[Value] {
    fn into_values(self) -> Vec<Value> {
        self.to_vec()
    }
}

impl Params for &Vec<Value> {
    fn into_values(self) -> Vec<Value> {
        self.clone()
    }
}

impl<T: Into<Value>, const N: usize> Params for [T; N] {
    fn into_values(self) -> Vec<Value> {
        self.into_iter().map(Into::into).collect()
    }
}

macro_rules! tuple_params {
    ($($name:ident)+) => {
        impl<$($name: Into<Value>),+> Params for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_values(self) -> Vec<Value> {
                let ($($name,)+) = self;
                vec![$($name.into()),+]
            }
        }
    };
}

tuple_params!(A);
tuple_params!(A B);
tuple_params!(A B C);
tuple_params!(A B C D);
tuple_params!(A B C D E);
tuple_params!(A B C D E F);
tuple_params!(A B C D E F G);
tuple_params!(A B C D E F G H);
tuple_params!(A B C D E F G H I);
tuple_params!(A B C D E F G H I J);
tuple_params!(A B C D E F G H I J K);
tuple_params!(A B C D E F G H I J K L);

/// Builds a `Vec<`[`Value`]`>` of statement parameters from expressions of any types that are
/// `Into<Value>`.
///
/// ```
/// use actix_mysql::{params, Value};
///
/// let name = String::from("alice");
/// let p = params![1u32, name, None::<&str>];
/// assert_eq!(p, vec![Value::UInt(1), Value::from("alice"), Value::Null]);
/// assert!(params![].is_empty());
/// ```
#[macro_export]
macro_rules! params {
    () => {
        ::std::vec::Vec::<$crate::Value>::new()
    };
    ($($value:expr),+ $(,)?) => {
        ::std::vec![$(<$crate::Value as ::std::convert::From<_>>::from($value)),+]
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn text(s: &str) -> Value {
        Value::Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn unit_vec_slice_and_array() {
        assert!(().into_values().is_empty());
        let v = vec![Value::Int(1), Value::Null];
        assert_eq!(v.as_slice().into_values(), v);
        assert_eq!((&v).into_values(), v);
        assert_eq!(v.clone().into_values(), v);
        assert_eq!(vec!["a", "b"].into_values(), vec![text("a"), text("b")]);
        assert_eq!(Vec::<i32>::new().into_values(), Vec::<Value>::new());
        assert_eq!(
            [Some(1u64), None].into_values(),
            [Value::UInt(1), Value::Null]
        );
        assert_eq!([0u8; 0].into_values(), Vec::<Value>::new());
    }

    #[test]
    fn tuples() {
        assert_eq!((1i8,).into_values(), [Value::Int(1)]);
        assert_eq!(
            (1i8, "a", 2.5f32, None::<u8>).into_values(),
            [Value::Int(1), text("a"), Value::Float(2.5), Value::Null]
        );
        let twelve = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, "twelve").into_values();
        assert_eq!(twelve.len(), 12);
        assert_eq!(twelve[10], Value::Int(11));
        assert_eq!(twelve[11], text("twelve"));
    }

    #[test]
    fn macro_builds_values() {
        let owned = String::from("s");
        assert_eq!(
            crate::params![1, owned, true, Bytes::from_static(b"\xff"),],
            [
                Value::Int(1),
                text("s"),
                Value::Int(1),
                Value::Bytes(Bytes::from_static(b"\xff"))
            ]
        );
        assert_eq!(crate::params![], Vec::<Value>::new());
        fn takes<P: Params>(p: P) -> usize {
            p.into_values().len()
        }
        assert_eq!(takes(crate::params![1, 2]), 2);
    }
}
