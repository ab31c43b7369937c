-- The table every Orleans ADO.NET provider reads its statements from at start-up
-- ("SELECT QueryKey, QueryText FROM OrleansQuery"): its name and columns are fixed by Orleans.
-- Later migrations add one row per statement; a row may be replaced by a later migration as long as
-- the statement keeps the provider's parameter names and result columns.
CREATE TABLE OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL PRIMARY KEY,
    QueryText varchar(8000) NOT NULL
);
