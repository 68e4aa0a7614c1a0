-- The analytic benchmark's workload, given to pgadvise as a SQL file (no
-- pg_stat_statements): reports and lookups over bench/sql/analytic.sql, with
-- correlated subqueries, EXISTS, joins and aggregates. One statement a line
-- group, each ending in a semicolon; the harness plans and runs them in order.

-- q01 an order's line items
SELECT l_linenumber, l_partkey, l_quantity, l_extendedprice FROM lineitem WHERE l_orderkey = 424242;

-- q02 a customer's latest orders
SELECT o_orderkey, o_totalprice, o_orderdate FROM orders WHERE o_custkey = 4242 ORDER BY o_orderdate DESC LIMIT 10;

-- q03 a supplier's parts
SELECT ps_partkey, ps_availqty FROM partsupp WHERE ps_suppkey = 77;

-- q04 each customer of a nation with their largest order (correlated)
SELECT c.c_custkey, c.c_name, (SELECT max(o.o_totalprice) FROM orders o WHERE o.o_custkey = c.c_custkey) AS largest
FROM customer c WHERE c.c_nationkey = 7;

-- q05 order priority checking (TPC-H Q4, EXISTS)
SELECT o_orderpriority, count(*) FROM orders o
WHERE o_orderdate >= date '1995-01-01' AND o_orderdate < date '1995-01-08'
  AND EXISTS (SELECT 1 FROM lineitem l WHERE l.l_orderkey = o.o_orderkey AND l.l_commitdate < l.l_receiptdate)
GROUP BY o_orderpriority ORDER BY o_orderpriority;

-- q06 a week's discounted revenue (TPC-H Q6, narrowed)
SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem
WHERE l_shipdate >= date '1994-01-01' AND l_shipdate < date '1994-01-08' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24;

-- q07 small-quantity-order revenue of a brand and container (TPC-H Q17, correlated)
SELECT sum(l.l_extendedprice) / 7.0 AS avg_yearly FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey
WHERE p.p_brand = 'Brand#23' AND p.p_container = 'MED BOX'
  AND l.l_quantity < (SELECT 0.2 * avg(l2.l_quantity) FROM lineitem l2 WHERE l2.l_partkey = p.p_partkey);

-- q08 the pending backlog
SELECT o_orderkey, o_custkey, o_orderdate FROM orders WHERE o_orderstatus = 'P' ORDER BY o_orderdate LIMIT 50;

-- q09 a month's sales by nation
SELECT n.n_name, sum(o.o_totalprice) FROM orders o
JOIN customer c ON c.c_custkey = o.o_custkey JOIN nation n ON n.n_nationkey = c.c_nationkey
WHERE o.o_orderdate >= date '1996-03-01' AND o.o_orderdate < date '1996-04-01'
GROUP BY n.n_name ORDER BY 2 DESC;

-- q10 pricing summary (TPC-H Q1): reads most of lineitem whatever the indexes
SELECT l_returnflag, l_linestatus, sum(l_quantity), avg(l_discount), count(*) FROM lineitem
WHERE l_shipdate <= date '1998-08-01' GROUP BY l_returnflag, l_linestatus ORDER BY 1, 2;

-- q11 parts of one size and type with their cheapest supplier (correlated)
SELECT p.p_partkey, (SELECT min(ps.ps_supplycost) FROM partsupp ps WHERE ps.ps_partkey = p.p_partkey)
FROM part p WHERE p.p_size = 15 AND p.p_type = 'LARGE BRUSHED STEEL';

-- q12 a customer's line items in a year
SELECT l.l_orderkey, l.l_partkey, l.l_quantity FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey
WHERE o.o_custkey = 777 AND o.o_orderdate >= date '1996-01-01' AND o.o_orderdate < date '1997-01-01';

-- q13 the top suppliers by balance in a nation
SELECT s_suppkey, s_name, s_acctbal FROM supplier WHERE s_nationkey = 3 ORDER BY s_acctbal DESC LIMIT 10;

-- q14 orders of a segment's customers in one day
SELECT o.o_orderkey, o.o_totalprice FROM customer c JOIN orders o ON o.o_custkey = c.c_custkey
WHERE c.c_mktsegment = 'BUILDING' AND o.o_orderdate = date '1995-03-15';
