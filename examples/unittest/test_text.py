import unittest


class TextTest(unittest.TestCase):
    def test_upper(self):
        self.assertEqual("fleet".upper(), "FLEET")

    def test_split(self):
        for text, parts in [("a b", 2), ("a", 1)]:
            with self.subTest(text=text):
                self.assertEqual(len(text.split()), parts)
