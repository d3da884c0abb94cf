import unittest


class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, count):
        if count <= 0:
            raise ValueError("count must be positive")
        self.items[name] = self.items.get(name, 0) + count


class InventoryTest(unittest.TestCase):
    def setUp(self):
        self.inv = Inventory()

    def test_add(self):
        self.inv.add("bolt", 3)
        self.assertEqual(self.inv.items, {"bolt": 3})

    def test_rejects_zero(self):
        with self.assertRaises(ValueError):
            self.inv.add("nut", 0)

    def test_total_fails_on_purpose(self):
        self.inv.add("bolt", 2)
        self.assertEqual(sum(self.inv.items.values()), 3)

    def test_lookup_errors_on_purpose(self):
        self.assertEqual(self.inv.items["washer"], 0)  # KeyError: an error, not a failure

    @unittest.skip("needs a warehouse")
    def test_restock(self):
        pass

    @unittest.expectedFailure
    def test_known_bug(self):
        self.assertEqual(1, 2)
