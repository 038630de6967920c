"""Credit products: staff configure versioned terms; borrowers see offers and quotes."""
