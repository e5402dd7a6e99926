"""The rule-expression grammar (lark, LALR). Parsed, never executed.

    age >= 65 and Country in ('United Kingdom', 'EIRE')
    `native-country` startswith 'United' or not (job is null)
    signup_date >= as_of - 90 days and email matches '@example\\.(com|org)$'
"""
from __future__ import annotations

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr (_OR and_expr)*          -> or_
?and_expr: not_expr (_AND not_expr)*        -> and_
?not_expr: _NOT not_expr                    -> not_
         | predicate

?predicate: "(" or_expr ")"
          | operand COMP operand                          -> compare
          | operand _BETWEEN operand _AND operand         -> between
          | operand _NOT _IN "(" literal_list ")"         -> not_in
          | operand _IN "(" literal_list ")"              -> in_
          | operand _CONTAINS STRING                      -> contains
          | operand _STARTSWITH STRING                    -> startswith
          | operand _ENDSWITH STRING                      -> endswith
          | operand _MATCHES STRING                       -> matches
          | operand _IS _NOT _NULL                        -> not_null
          | operand _IS _NULL                             -> is_null
          | column                                        -> truthy

literal_list: literal ("," literal)* ","?

?operand: column | literal | date_value

?literal: SIGNED_NUMBER -> number
        | STRING        -> string
        | _TRUE         -> true
        | _FALSE        -> false

?date_value: _AS_OF                             -> as_of
           | _AS_OF PLUSMINUS SIGNED_NUMBER UNIT -> as_of_shift
           | _DATE "(" STRING ")"               -> date

column: NAME | QUOTED_NAME

COMP: "==" | "!=" | "<=" | ">=" | "<" | ">" | "="
PLUSMINUS: "+" | "-"
UNIT.2: /(days?|weeks?|months?|years?)\b/i
_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
_BETWEEN.2: /between\b/i
_CONTAINS.2: /contains\b/i
_STARTSWITH.2: /startswith\b/i
_ENDSWITH.2: /endswith\b/i
_MATCHES.2: /matches\b/i
_IS.2: /is\b/i
_NULL.2: /null\b/i
_TRUE.2: /true\b/i
_FALSE.2: /false\b/i
_AS_OF.2: /as_of\b/i
_DATE.2: /date(?=\s*\()/i
NAME: /[A-Za-z_][A-Za-z0-9_.]*/
QUOTED_NAME: /`[^`]+`/
STRING: /'(?:[^'\\]|\\.)*'/ | /"(?:[^"\\]|\\.)*"/

%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""
