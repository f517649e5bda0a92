-- Nothing to undo: the first three characters the earlier mask showed are not kept in clear
-- anywhere (only encrypted), and the earlier code shows the shorter mask as it is.
SELECT 1;
