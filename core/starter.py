"""The commented starter config written by ``microseg init``."""

STARTER_CONFIG = '''\
# microseg.toml — a governed segmentation run. Reference: docs/config.md
# Paths are relative to this file.

# Reference date: features use data strictly before it (default: the day after the last transaction).
# as_of = "2026-01-01"

[sources.customers]                # optional if transactions are given
path = "customers.csv"             # CSV (also .gz), Parquet, or: url = "postgresql://..." + table/query
customer_id = "customer_id"        # omit to use the row number
signup_date = "signup_date"        # used for tenure_days
# dates = ["birth_date"]           # other date columns to parse
# sep = ";"

[sources.transactions]             # optional if customers are given
path = "transactions.csv"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"                  # or: quantity = "Quantity" and unit_price = "UnitPrice"
# invoice = "InvoiceNo"            # count purchases per invoice, not per line
# channel = "channel"              # spend share per channel
# attributes = ["Country"]         # carry these columns to the customer level (latest value)

# [sources.events]                 # campaign contacts: enables campaign-response
# path = "contacts.csv"
# customer_id = "customer_id"
# timestamp = "sent_at"
# channel = "channel"
# responded = "responded"
# treatment = "group"              # control group flag, for uplift
# control_value = "control"

[[methods]]                        # each entry: one instance of a registered method (`microseg plugins`)
id = "rfm"
method = "rfm"

[[methods]]
id = "lifestage"
method = "rules"
[methods.params]
mode = "first"                     # first match wins; "multi" = one membership per matching rule
default = "Adults"
segments = [
  { name = "Young adults", when = "age < 30" },
  { name = "Seniors", when = "age >= 65" },
]

[microsegments]                    # intersections, coarse to fine; the parent drops the last one
dimensions = ["rfm", "lifestage"]

[privacy]
min_segment_size = 50              # k: every combination of released values is held by 0 or >= k customers
release_scope = { runs = 12 }      # checked together with earlier releases; or { days = 365 }, { all = true }
key_file = ".microseg/key"         # keyed pseudonyms (HMAC-SHA256); or set $MICROSEG_KEY
# consent = { profiling = "consent_profiling", marketing = "consent_marketing" }
# columns = { email = "drop", birth_date = "generalise" }

[release]
customer_ids = "pseudonym"         # "original" only for evaluation; "none" for counts only
include_scores = false             # true: scores released as quantile bands
# families = ["rfm", "micro"]      # released columns (default: every method and micro); fewer = less coarsening
# attributes = ["age", "city"]     # released as part of each customer's values, generalised as needed
'''
