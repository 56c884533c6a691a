"""Analytics: funnels, retention, purchase behaviour, reachability, paths — data for the dashboard's charts."""
