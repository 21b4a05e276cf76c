import TILinalg
