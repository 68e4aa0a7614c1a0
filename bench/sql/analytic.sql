-- The analytic benchmark's database: a TPC-H-like schema (nations, suppliers,
-- parts, customers, orders, line items) with primary keys only, generated
-- deterministically (setseed; INSERT ... SELECT in one backend, in order).
-- 100k customers, 1M orders, 3M line items, 40k parts, 160k part suppliers.

SET synchronous_commit = off;
SELECT setseed(0.17);

CREATE TABLE nation (n_nationkey int PRIMARY KEY, n_name text NOT NULL, n_regionkey int NOT NULL);
CREATE TABLE supplier (s_suppkey int PRIMARY KEY, s_name text NOT NULL, s_nationkey int NOT NULL, s_acctbal numeric NOT NULL);
CREATE TABLE part (
    p_partkey int PRIMARY KEY,
    p_name text NOT NULL,
    p_brand text NOT NULL,
    p_type text NOT NULL,
    p_size int NOT NULL,
    p_container text NOT NULL,
    p_retailprice numeric NOT NULL
);
CREATE TABLE partsupp (
    ps_partkey int NOT NULL,
    ps_suppkey int NOT NULL,
    ps_availqty int NOT NULL,
    ps_supplycost numeric NOT NULL,
    PRIMARY KEY (ps_partkey, ps_suppkey)
);
CREATE TABLE customer (
    c_custkey int PRIMARY KEY,
    c_name text NOT NULL,
    c_nationkey int NOT NULL,
    c_mktsegment text NOT NULL,
    c_acctbal numeric NOT NULL
);
CREATE TABLE orders (
    o_orderkey int PRIMARY KEY,
    o_custkey int NOT NULL,
    o_orderstatus text NOT NULL,
    o_totalprice numeric NOT NULL,
    o_orderdate date NOT NULL,
    o_orderpriority text NOT NULL
);
CREATE TABLE lineitem (
    l_orderkey int NOT NULL,
    l_linenumber int NOT NULL,
    l_partkey int NOT NULL,
    l_suppkey int NOT NULL,
    l_quantity int NOT NULL,
    l_extendedprice numeric NOT NULL,
    l_discount numeric NOT NULL,
    l_returnflag text NOT NULL,
    l_linestatus text NOT NULL,
    l_shipdate date NOT NULL,
    l_commitdate date NOT NULL,
    l_receiptdate date NOT NULL,
    PRIMARY KEY (l_orderkey, l_linenumber)
);

INSERT INTO nation SELECT i, 'NATION' || i, i % 5 FROM generate_series(0, 24) i;
INSERT INTO supplier SELECT i, 'Supplier#' || i, i % 25, round((random() * 10000)::numeric, 2) FROM generate_series(1, 2000) i;
INSERT INTO part
SELECT i,
       (ARRAY['forest', 'almond', 'blush', 'cornsilk', 'drab', 'frosted', 'ghost', 'honeydew', 'lace', 'maroon'])[1 + (i * 7) % 10]
           || ' ' || (ARRAY['green', 'red', 'navy', 'olive', 'peach', 'plum', 'rose', 'sky', 'tan', 'white'])[1 + (i * 13) % 10] || ' ' || i,
       'Brand#' || (1 + i % 5) || (1 + (i / 5) % 5),
       (ARRAY['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'])[1 + i % 6] || ' BRUSHED STEEL',
       1 + i % 50,
       (ARRAY['SM', 'MED', 'LG', 'JUMBO', 'WRAP'])[1 + (i / 25) % 5] || ' ' || (ARRAY['BOX', 'BAG', 'JAR', 'PKG', 'CASE', 'PACK', 'CAN', 'DRUM'])[1 + (i / 3) % 8],
       900 + (i % 20000) / 10.0
FROM generate_series(1, 40000) i;
INSERT INTO partsupp SELECT p, 1 + (p + s * 500) % 2000, 1 + (p * s) % 9999, 1 + ((p * 7 + s) % 1000) / 1.0
FROM generate_series(1, 40000) p, generate_series(0, 3) s;
INSERT INTO customer
SELECT i, 'Customer#' || i, i % 25, (ARRAY['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'])[1 + i % 5],
       round((random() * 10000 - 1000)::numeric, 2)
FROM generate_series(1, 100000) i;
-- 1M orders over 1992-1998; 2% still pending ('P').
INSERT INTO orders
SELECT i, 1 + (i::bigint * 7919) % 100000,
       CASE WHEN i % 50 = 0 THEN 'P' WHEN i % 2 = 0 THEN 'F' ELSE 'O' END,
       round((1000 + random() * 300000)::numeric, 2),
       date '1992-01-01' + (i % 2400),
       (ARRAY['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'])[1 + i % 5]
FROM generate_series(1, 1000000) i;
-- Three line items an order.
INSERT INTO lineitem
SELECT o, n, 1 + (o * 31 + n * 17) % 40000, 1 + (o + n) % 2000, 1 + (o + n * 3) % 50,
       round((900 + random() * 90000)::numeric, 2), ((o + n) % 11) / 100.0,
       (ARRAY['A', 'N', 'R'])[1 + (o + n) % 3], (ARRAY['F', 'O'])[1 + o % 2],
       date '1992-01-01' + (o % 2400) + n * 3, date '1992-01-01' + (o % 2400) + 30, date '1992-01-01' + (o % 2400) + n * 5 + 20
FROM generate_series(1, 1000000) o, generate_series(1, 3) n;

VACUUM ANALYZE;
