import TIData
