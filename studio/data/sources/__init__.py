"""Sources: each kind of dataset source recognised and read (folders, zips, arrays, IDX, CIFAR, CelebA,
downloads, built-ins, translation sets); the image files among them are handed to decode/ as a LoadJob."""
