"""Routes for wallet holders: their wallets and transfers."""
